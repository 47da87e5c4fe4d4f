"""Streaming CSV downloads that are safe to open in a spreadsheet.

Every CSV the product serves (segment members, territory lists, the audit log)
goes through ``csv_response``, so each export streams in constant memory and
neutralises cells a spreadsheet would run as a formula (OWASP "CSV
injection"): a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe. Numbers are written as they are, so
a negative count stays a number. See docs/api.md.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """The cell as a spreadsheet should see it: text that starts like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet would run as a formula: ``=...``, or ``+``/``-``/``@``
    followed by more than a number. ``-5`` and ``+1.5`` are numbers, not formulas.
    Imports refuse such cells (docs/imports.md, "Limits"); exports quote them.
    """
    if not text.startswith(FORMULA_PREFIXES):
        return False
    if text.startswith(("=", "\t", "\r")):
        return True
    try:
        float(text)
    except ValueError:
        return len(text) > 1
    return False


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Yield the header, then every row, as CSV lines with formula cells neutralised."""
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        yield writer.writerow([csv_safe(cell) for cell in row])


def csv_response(
    *, header: Iterable[str], rows: Iterable[Iterable[Any]], filename: str
) -> StreamingHttpResponse:
    """A streamed ``text/csv`` attachment named ``filename``."""
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
