"""Small helpers to build import files in tests."""

from __future__ import annotations

import io

from customers.services import import_file


def csv_file(*lines: str) -> io.BytesIO:
    """A CSV upload from lines (header first)."""
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def run_import(kind: str, *lines: str, user=None):
    return import_file(kind=kind, file=csv_file(*lines), file_name=f"{kind}.csv", user=user)


def messages(exc_info) -> list[str]:
    """The ``row N: column: message`` lines of a ValidationFailed."""
    return [str(e) for e in exc_info.value.errors]
