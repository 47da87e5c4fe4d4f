"""Row checking for the import kinds registered by the customers app itself
(``coverage``, ``referrals``): header rules and cell parsers of docs/imports.md,
every problem collected as ``row N: column: message`` (at most 1,000)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.errors import ErrorDetail, ValidationFailed

from . import fields as f

MAX_ERRORS = 1000
_ROW = re.compile(r"row (\d+):")


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise f.CellError("must be a date YYYY-MM-DD") from None


def parse_npi_digits(value: str) -> str:
    """Ten digits (a referral may name any NPI, customer or not)."""
    if len(value) != 10 or not value.isdigit():
        raise f.CellError("must be 10 digits")
    return value


@dataclass(frozen=True)
class Col:
    name: str
    parse: f.Parser
    required: bool = True


def read_rows(
    header: list[str], rows: Iterator[tuple[int, list[str]]], columns: tuple[Col, ...]
) -> tuple[list[tuple[int, dict]], list[ErrorDetail]]:
    """Every valid non-blank row as ``(row number, {column: value})``, and the problems
    of the invalid cells; raises ValidationFailed at once for a wrong header."""
    names = [(h or "").strip().lower() for h in header]
    known = {c.name: c for c in columns}
    problems = [
        ErrorDetail(f"header: {name}", "unknown column (expected: " + ", ".join(known) + ")")
        for name in names
        if name and name not in known
    ]
    problems += [
        ErrorDetail(f"header: {c.name}", "required column is missing")
        for c in columns
        if c.required and c.name not in names
    ]
    if problems:
        raise ValidationFailed(errors=problems)
    index = {name: i for i, name in enumerate(names) if name}
    out: list[tuple[int, dict]] = []
    errors: list[ErrorDetail] = []
    for row_no, cells in rows:
        if not any((c or "").strip() for c in cells):
            continue
        data: dict = {}
        for name, i in index.items():
            col = known[name]
            raw = (cells[i] or "").strip() if i < len(cells) and cells[i] is not None else ""
            if not raw:
                if col.required:
                    errors.append(ErrorDetail(f"row {row_no}: {name}", "this field is required"))
                data[name] = None
                continue
            try:
                data[name] = col.parse(raw)
            except f.CellError as exc:
                errors.append(ErrorDetail(f"row {row_no}: {name}", str(exc)))
        if len(errors) >= MAX_ERRORS:
            break
        if all(data.get(c.name) is not None for c in columns if c.required):
            out.append((row_no, data))
    return out, errors


def _row_number(error: ErrorDetail) -> int:
    match = _ROW.match(error.path)
    return int(match.group(1)) if match else 0


def refuse(errors: list[ErrorDetail]) -> None:
    """Raise ValidationFailed with the problems in row order (stable), if any."""
    if errors:
        raise ValidationFailed(errors=sorted(errors, key=_row_number)[:MAX_ERRORS])
