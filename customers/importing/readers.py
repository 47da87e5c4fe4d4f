"""Turn a CSV or XLSX file into a header and a stream of rows of trimmed strings.

Both readers stream: CSV through ``csv.reader`` over a text wrapper, XLSX
through openpyxl's read-only mode, so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from core.errors import ValidationFailed

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

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, cells in enumerate(lines, start=1):
                yield number, [c.strip() for c in cells]
        finally:
            # Leave the caller's file open: a wrapper closes its buffer when collected.
            try:
                text.detach()
            except ValueError:
                pass

    return Table(list(header), rows())


def _xlsx_rows(stream: IO[bytes]) -> Table:
    import openpyxl  # imported here: only XLSX imports pay for it

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationFailed(f"not a readable XLSX workbook ({exc})", path="file") from None
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    if sheet is None:
        workbook.close()
        raise ValidationFailed("the workbook has no sheet", path="header")
    values = sheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        workbook.close()
        raise ValidationFailed("the file is empty (no header row)", path="header")
    header = [_cell_text(v) for v in first]
    # Trailing empty header cells are formatting, not columns.
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(values, start=1):
                yield number, [_cell_text(v) for v in row]
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
