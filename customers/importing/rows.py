"""The checks made in Python, one row at a time: header, cells, error list (docs/imports.md).

The header is checked first (every problem at once, at path ``header``); then
rows stream through the cell parsers of ``fields`` and valid rows go to the
staging tables. Problems are collected as ``row N: column: message``, sorted by
row and column position, at most ``MAX_ERRORS`` of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from core.errors import ErrorDetail, ValidationFailed

from . import fields as f
from .kinds import ATTR_KEY_MAX, ATTR_PREFIX, ATTR_VALUE_MAX, Kind
from .staging import Stage

MAX_ERRORS = 1000

PathFormatter = Callable[[int, str], str]


def file_path(row: int, column: str) -> str:
    """Error path of a file import: ``row N: column``."""
    return f"row {row}: {column}"


class Errors:
    """Row errors, kept sorted by (row, column position) and capped at MAX_ERRORS."""

    def __init__(self, path: PathFormatter, row_label: Callable[[int], str]) -> None:
        self.items: list[tuple[int, int, str, str]] = []
        self.path = path
        self.row_label = row_label

    def add(self, row: int, position: int, column: str, message: str) -> None:
        self.items.append((row, position, column, message))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda e: (e[0], e[1]))
        raise ValidationFailed(
            errors=[ErrorDetail(self.path(r, c), m) for r, _, c, m in self.items[:MAX_ERRORS]]
        )


def header_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, path="header")


@dataclass
class Layout:
    """Where each known column and each ``attr.`` column sits in the file."""

    positions: dict[str, int]  # column name -> index in the file
    attributes: list[tuple[int, str]]  # (index, key)
    width: int


def read_header(kind: Kind, header: list[str]) -> Layout:
    """Check the header (case-insensitive, trimmed); raise every problem at once."""
    problems: list[ErrorDetail] = []
    positions: dict[str, int] = {}
    attributes: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(header):
        name = (raw or "").strip().lower()
        if not name:
            problems.append(ErrorDetail("header", f"column {index + 1} has no name"))
            continue
        if name in seen:
            problems.append(ErrorDetail("header", f"duplicate column '{name}'"))
            continue
        seen.add(name)
        if name.startswith(ATTR_PREFIX):
            key = name[len(ATTR_PREFIX) :].strip()
            if not kind.allows_attributes:
                problems.append(
                    ErrorDetail(
                        "header",
                        f"column '{name}': custom attributes (attr.*) are imported "
                        "with customers only",
                    )
                )
            elif not key or len(key) > ATTR_KEY_MAX:
                problems.append(
                    ErrorDetail(
                        "header", f"column '{name}': attribute name must be 1-100 characters"
                    )
                )
            else:
                attributes.append((index, key))
        elif name in kind.by_name:
            positions[name] = index
        else:
            problems.append(ErrorDetail("header", f"unknown column '{name}'"))
    for column in kind.columns:
        if column.required and column.name not in positions:
            problems.append(ErrorDetail("header", f"missing required column '{column.name}'"))
    if problems:
        raise ValidationFailed(errors=problems)
    return Layout(positions, attributes, len(header))


def stage_rows(
    kind: Kind,
    layout: Layout,
    rows: Iterator[tuple[int, list[str]]],
    raw: Stage,
    attrs: Stage | None,
    errors: Errors,
    skip_blank_rows: bool = True,
) -> int:
    """Parse every row; stage valid ones. Returns the number of data rows."""
    # (position in the file or None when absent, name, required, blank, parser)
    plan = [
        (layout.positions.get(c.name), c.name, c.required, c.blank, c.parse) for c in kind.columns
    ]
    width = layout.width
    count = 0
    for row_no, cells in rows:
        if skip_blank_rows and not any(cells):
            continue  # blank lines and empty spreadsheet rows are not data
        count += 1
        ok = True
        size = len(cells)
        if size > width and any(cells[width:]):
            errors.add(row_no, width, "(extra cells)", f"has more cells than the header's {width}")
            ok = False
        values: list[Any] = [row_no]
        append = values.append
        for position, name, required, blank, parse in plan:
            if position is None:
                append(blank)
                continue
            cell = cells[position] if position < size else ""
            if cell == "":
                if required:
                    errors.add(row_no, position, name, "is required")
                    ok = False
                append(blank)
                continue
            try:
                append(parse(cell))
            except f.CellError as exc:
                errors.add(row_no, position, name, str(exc))
                ok = False
                append(None)
        attribute_rows = []
        for position, key in layout.attributes:
            cell = cells[position] if position < size else ""
            if len(cell) > ATTR_VALUE_MAX:
                errors.add(
                    row_no,
                    position,
                    ATTR_PREFIX + key,
                    f"must be at most {ATTR_VALUE_MAX} characters",
                )
                ok = False
                continue
            number = f.attribute_number(cell) if cell else None
            attribute_rows.append((row_no, values[1], key, cell, number))
        if ok:
            raw.add(tuple(values))
            if attrs is not None:
                for item in attribute_rows:
                    attrs.add(item)
        elif errors.full:
            break
    raw.flush()
    if attrs is not None:
        attrs.flush()
    return count
