"""Dialects and staging tables: where validated rows wait before the upsert (docs/imports.md).

Rows are staged in temporary tables inside the caller's transaction, so an
import stays all or nothing. PostgreSQL receives them through ``COPY`` (for a
table filled alone, one ``COPY`` fed by a background writer thread); SQLite
through ``executemany`` in chunks. Either way only one chunk of rows is held in
Python, so memory stays flat in the file size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection

from .kinds import BOOL, DATE, DATETIME, INT, TEXT, Kind

CHUNK_ROWS = 5000

# Temporary tables of one import: the staged file rows, its ``attr.`` cells,
# the rows resolved against their targets, and the customers whose data changed.
RAW, ATTR, RES, CHANGED = "imp_raw", "imp_attr", "imp_res", "imp_changed"

# Staging columns of ``attr.`` cells: one row per (file row, attribute).
ATTRIBUTE_COLUMNS = [
    ("row_no", INT),
    ("npi", TEXT),
    ("key", TEXT),
    ("value", TEXT),
    ("number", "decimal"),
]

_PG_TYPES = {
    TEXT: "text",
    INT: "bigint",
    BOOL: "boolean",
    DATETIME: "timestamptz",
    DATE: "date",
    "decimal": "numeric",
}
_SQLITE_TYPES = {
    TEXT: "text",
    INT: "integer",
    BOOL: "integer",
    DATETIME: "text",
    DATE: "text",
    "decimal": "decimal",
}


def stage_columns(kind: Kind) -> list[tuple[str, str]]:
    """Staging columns of a kind's file rows: the row number, then every known column."""
    return [("row_no", INT)] + [(c.name, c.type) for c in kind.columns]


class Sql:
    """Backend differences, kept to the few places they matter."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.pg = self.vendor == "postgresql"
        self.q = connection.ops.quote_name

    def type(self, kind: str) -> str:
        return (_PG_TYPES if self.pg else _SQLITE_TYPES)[kind]

    def adapter(self, kind: str) -> Callable[[Any], Any] | None:
        """How a Python value is stored, matching what Django's ORM writes on SQLite."""
        if self.pg:
            return None
        if kind == DATETIME:
            # Parsed values are already in UTC, the connection's time zone: this
            # is what ``adapt_datetimefield_value`` writes, without its checks.
            return lambda v: None if v is None else str(v.replace(tzinfo=None))
        if kind == DATE:
            return lambda v: None if v is None else v.isoformat()
        if kind == BOOL:
            return lambda v: None if v is None else int(v)
        return None

    def differs(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}" if self.pg else f"{a} IS NOT {b}"

    def now(self, moment: dt.datetime) -> Any:
        return moment if self.pg else connection.ops.adapt_datetimefield_value(moment)


class Stage:
    """A temporary table filled in chunks.

    On PostgreSQL a table filled alone (``stream=True``) gets one ``COPY`` for
    the whole file, written by a background thread (psycopg's queued writer),
    so the server ingests rows while Python parses the next ones; memory stays
    bounded by the writer's queue. Otherwise rows are buffered and sent
    ``CHUNK_ROWS`` at a time.
    """

    def __init__(
        self, sql: Sql, cursor, name: str, columns: list[tuple[str, str]], stream: bool = False
    ) -> None:
        self.sql, self.cursor, self.name = sql, cursor, name
        self.columns = [c for c, _ in columns]
        self.adapters = [sql.adapter(t) for _, t in columns]
        self.buffer: list[tuple] = []
        self.stream = stream and sql.pg
        self._copy_context = None
        self._copy = None
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        body = ", ".join(f"{sql.q(c)} {sql.type(t)}" for c, t in columns)
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({body})")

    def _copy_statement(self) -> str:
        names = ", ".join(self.sql.q(c) for c in self.columns)
        return f"COPY {self.name} ({names}) FROM STDIN"

    def add(self, row: tuple) -> None:
        if self.stream:
            if self._copy is None:
                # Imported here: only PostgreSQL streams, so SQLite runs never load psycopg.
                from psycopg.copy import QueuedLibpqWriter

                raw = self.cursor.cursor
                self._copy_context = raw.copy(self._copy_statement(), writer=QueuedLibpqWriter(raw))
                self._copy = self._copy_context.__enter__()
            self._copy.write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= CHUNK_ROWS:
            self.flush()

    def close(self, error: BaseException | None = None) -> None:
        """End a streaming COPY: normally, or aborted when parsing failed."""
        context, self._copy_context, self._copy = self._copy_context, None, None
        if context is not None:
            if error is None:
                context.__exit__(None, None, None)
            else:
                try:
                    context.__exit__(type(error), error, error.__traceback__)
                except Exception:  # noqa: BLE001 - the parse error is the one to report
                    pass

    def flush(self) -> None:
        if self.stream:
            self.close()
            return
        if not self.buffer:
            return
        rows = self.buffer
        self.buffer = []
        if self.sql.pg:
            with self.cursor.cursor.copy(self._copy_statement()) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapters = [(i, a) for i, a in enumerate(self.adapters) if a is not None]
            if adapters:
                fixed = []
                for row in rows:
                    row = list(row)
                    for i, adapt in adapters:
                        row[i] = adapt(row[i])
                    fixed.append(row)
                rows = fixed
            marks = ", ".join(["%s"] * len(self.columns))
            self.cursor.executemany(f"INSERT INTO {self.name} VALUES ({marks})", rows)
