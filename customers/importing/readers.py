"""Turn a CSV or XLSX file into a header and a stream of rows of trimmed strings.

Both readers stream: CSV through ``csv.reader`` over a text wrapper, XLSX
through openpyxl's read-only mode, so memory does not grow with the file.

Hostile files are refused before they cost memory or CPU (docs/imports.md,
"Limits"): an XLSX is inspected as a zip first (total uncompressed size,
compression ratio, no DTD in any XML part), parsed with defusedxml (openpyxl
uses it when installed), read only up to ``XLSX_MAX_ROWS`` rows and the
header's columns; formula cells (in a CSV: text a spreadsheet would run as a
formula, core.csv.looks_like_formula) and NUL characters are refused as
``row N: column: ...``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import defusedxml
import openpyxl
from django.conf import settings

from core.csv import FORMULA_PREFIXES, looks_like_formula
from core.errors import ErrorDetail, ValidationFailed

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


@dataclass
class Table:
    """A header (as written in the file) and rows numbered from 1 (data rows only)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def _binary(file: Any) -> tuple[IO[bytes], bool]:
    """A binary file object for a path, an open file or a Django (uploaded) File.

    Returns the stream and whether we opened it (and so must close it).
    """
    if isinstance(file, (str, Path)):
        return open(file, "rb"), True  # noqa: SIM115 - closed by the caller
    stream = getattr(file, "file", None) or file
    if isinstance(stream, io.TextIOBase):
        stream = stream.buffer
    try:
        stream.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    return stream, False


def _cell_text(value: Any) -> str:
    """XLSX cell values as the text a CSV of the same sheet would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _cell_error(number: int, header: list[str], index: int, message: str) -> ValidationFailed:
    column = header[index] if index < len(header) and header[index] else f"column {index + 1}"
    return ValidationFailed(errors=[ErrorDetail(f"row {number}: {column}", message)])


# What may make a row's cell a NUL or a formula, searched once in the row's cells, each
# led by a unit separator: a clean row (nearly every row) costs one search in C instead
# of two Python calls per cell (reading a million interaction rows: 4.9 to 4.2 s of
# CPU). A match is only a suspicion, settled cell by cell below. (No "^" in the
# pattern: an alternative that may match anywhere makes the search step through every
# character in Python's engine, slower than the calls it replaces.)
_SEPARATOR = "\x1f"
_SUSPECT = re.compile("\x00|" + _SEPARATOR + "[" + re.escape("".join(FORMULA_PREFIXES)) + "]")


def _no_nul(number: int, header: list[str], cells: list[str]) -> list[str]:
    """The row's cells, or an error naming the first holding a NUL or a formula."""
    if _SUSPECT.search(_SEPARATOR + _SEPARATOR.join(cells)) is None:
        return cells
    for index, cell in enumerate(cells):
        if "\x00" in cell:
            raise _cell_error(number, header, index, "NUL characters are not accepted")
        if looks_like_formula(cell):
            raise _cell_error(number, header, index, "formulas are not accepted")
    return cells


def _csv_rows(stream: IO[bytes]) -> Table:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)

    def guarded() -> Iterator[list[str]]:
        try:
            yield from reader
        except UnicodeDecodeError:
            raise ValidationFailed(
                "the file is not UTF-8 text (save the CSV as UTF-8)", path="file"
            ) from None
        except csv.Error as exc:
            raise ValidationFailed(
                f"not a readable CSV file near line {reader.line_num}: {exc}", path="file"
            ) from None

    lines = guarded()
    header = next(lines, None)
    if header is None:
        raise ValidationFailed("the file is empty (no header row)", path="header")

    if any("\x00" in cell for cell in header):
        raise ValidationFailed("NUL characters are not accepted", path="header")

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, cells in enumerate(lines, start=1):
                yield number, _no_nul(number, header, [c.strip() for c in cells])
        finally:
            # Leave the caller's file open: a wrapper closes its buffer when collected.
            try:
                text.detach()
            except ValueError:
                pass

    return Table(list(header), rows())


# What a damaged workbook raises while it is opened or read: a broken archive or CRC
# (BadZipFile), corrupt deflate data (zlib.error), a part cut short (EOFError), XML
# that is malformed or truncated (SyntaxError: ElementTree's ParseError), a missing part.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError, OSError, ValueError)


def _damaged(exc: BaseException) -> ValidationFailed:
    """The 400 naming what is wrong with a workbook that cannot be read."""
    if isinstance(exc, zlib.error):
        problem = f"its compressed data is corrupt ({exc})"
    elif isinstance(exc, zipfile.BadZipFile) and "CRC" in str(exc):
        problem = f"a part fails its CRC check ({exc}): the file was damaged"
    elif isinstance(exc, EOFError):
        problem = f"a part is cut short ({exc or 'unexpected end of data'})"
    elif isinstance(exc, SyntaxError):
        problem = f"its XML is malformed or truncated ({exc})"
    elif isinstance(exc, defusedxml.DefusedXmlException):
        problem = f"its XML is refused ({exc})"
    else:
        problem = str(exc) or type(exc).__name__
    return ValidationFailed(f"not a readable XLSX workbook: {problem}", path="file")


def _check_xlsx_container(stream: IO[bytes]) -> None:
    """Refuse zip bombs and DTDs before openpyxl reads anything."""
    try:
        archive = zipfile.ZipFile(stream)
    except DAMAGED as exc:
        raise _damaged(exc) from None
    try:
        _check_parts(archive)
    except DAMAGED as exc:
        raise _damaged(exc) from None
    stream.seek(0)


def _check_parts(archive: zipfile.ZipFile) -> None:
    limit = settings.XLSX_MAX_UNCOMPRESSED_BYTES
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > limit or (info.file_size > 1_000_000 and ratio > 200):
            raise ValidationFailed(
                f"the workbook expands to more than the {limit} bytes accepted "
                "(or is compressed like a zip bomb); split it or use CSV",
                path="file",
            )
        if info.filename.endswith((".xml", ".rels")):
            with archive.open(info) as part:
                head = part.read(4096)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ValidationFailed(
                    "the workbook contains a DTD or entity declarations (not accepted)",
                    path="file",
                )


def _xlsx_rows(stream: IO[bytes]) -> Table:
    _check_xlsx_container(stream)
    try:
        # data_only=False: a formula cell reads as its formula, so it can be refused.
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=False)
    except (*DAMAGED, defusedxml.DefusedXmlException) as exc:
        raise _damaged(exc) from None
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        workbook.close()
        raise ValidationFailed("the workbook has no sheet", path="header")
    # The sheet's <dimension> is a hint any tool may leave stale (a sheet saying
    # A1:F2 may hold 1,000 rows): forget it, so rows are read to the sheet's end.
    sheet.reset_dimensions()
    max_columns = settings.XLSX_MAX_COLUMNS
    try:
        first = next(sheet.iter_rows(min_row=1, max_row=1, max_col=max_columns), None)
    except (*DAMAGED, defusedxml.DefusedXmlException) as exc:
        workbook.close()
        raise _damaged(exc) from None
    if first is None:
        workbook.close()
        raise ValidationFailed("the file is empty (no header row)", path="header")
    if any(cell.data_type == "f" for cell in first):
        workbook.close()
        raise ValidationFailed("formulas are not accepted", path="header")
    header = [_cell_text(cell.value) for cell in first]
    # Trailing empty header cells are formatting, not columns.
    while header and header[-1] == "":
        header.pop()
    if any("\x00" in cell for cell in header):
        workbook.close()
        raise ValidationFailed("NUL characters are not accepted", path="header")
    max_rows = settings.XLSX_MAX_ROWS

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            data = sheet.iter_rows(min_row=2, max_col=max(len(header), 1))
            for number, row in enumerate(data, start=1):
                if number > max_rows:
                    raise ValidationFailed(
                        f"the workbook has more than {max_rows} rows; split it or use CSV",
                        path="file",
                    )
                cells = []
                for index, cell in enumerate(row):
                    if cell.data_type == "f":
                        raise _cell_error(number, header, index, "formulas are not accepted")
                    cells.append(_cell_text(cell.value))
                yield number, _no_nul(number, header, cells)
        except (*DAMAGED, defusedxml.DefusedXmlException) as exc:
            raise _damaged(exc) from None
        finally:
            workbook.close()

    return Table(header, rows())


def open_table(file: Any, file_name: str = "") -> tuple[Table, IO[bytes] | None]:
    """Detect the format (content first, then the file name) and return the table.

    The second value is a stream the caller must close, or None.
    """
    stream, owned = _binary(file)
    head = stream.read(8)
    try:
        stream.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        # Not seekable: put the bytes we peeked back in front of the rest.
        stream = io.BufferedReader(_Prefixed(head, stream))  # type: ignore[arg-type]
    name = (file_name or getattr(file, "name", "") or "").lower()
    try:
        if head.startswith(OLE_MAGIC) or name.endswith(".xls"):
            raise ValidationFailed(
                "legacy .xls workbooks are not supported; save as XLSX or CSV", path="file"
            )
        if head.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
            table = _xlsx_rows(stream)
        else:
            if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
                raise ValidationFailed("the file is UTF-16; save the CSV as UTF-8", path="file")
            table = _csv_rows(stream)
    except BaseException:
        if owned:
            stream.close()
        raise
    return table, (stream if owned else None)


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns ``prefix`` and then the rest of ``stream``."""

    def __init__(self, prefix: bytes, stream: IO[bytes]) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
