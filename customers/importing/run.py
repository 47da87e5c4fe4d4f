"""One import's SQL context: cursor, tables from the models' ``_meta``, checks over staged rows.

Every check that needs more than one row (docs/imports.md, "All or nothing") is
SQL over the staging table ``RAW``: references to existing rows, a natural key
repeated within the file. Rows it finds are reported like cell errors, as
``row N: column: message``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection, models

from accounts.models import Territory

from .kinds import Kind
from .rows import MAX_ERRORS, Errors, Layout
from .staging import ATTR, CHANGED, RAW, RES, Sql


class Table:
    """A model's table and column names, read from its ``_meta`` and quoted for SQL."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.name = connection.ops.quote_name(model._meta.db_table)

    def __str__(self) -> str:
        return self.name

    def __format__(self, spec: str) -> str:
        return format(self.name, spec)

    @property
    def pk(self) -> str:
        return connection.ops.quote_name(self.model._meta.pk.column)

    def col(self, field: str) -> str:
        """The quoted column of a field, by name or attname (``parent`` or ``parent_id``)."""
        return connection.ops.quote_name(self.model._meta.get_field(field).column)

    def stamps(self, *, insert: bool) -> list[str]:
        """Columns the ORM sets to now: ``auto_now`` always, ``auto_now_add`` on insert."""
        return [
            connection.ops.quote_name(f.column)
            for f in self.model._meta.concrete_fields
            if getattr(f, "auto_now", False) or (insert and getattr(f, "auto_now_add", False))
        ]


class Run:
    """One import of one kind: its cursor, header layout, errors and SQL helpers."""

    def __init__(self, kind: Kind, layout: Layout, errors: Errors, now: dt.datetime) -> None:
        self.kind, self.layout, self.errors = kind, layout, errors
        self.sql = Sql()
        self.q = self.sql.q
        self.now = self.sql.now(now)  # as a query parameter of this backend
        self.cursor = connection.cursor()

    def present(self, name: str) -> bool:
        return name in self.layout.positions

    def pos(self, name: str) -> int:
        return self.layout.positions.get(name, 0)

    def scalar(self, sql: str, params: list | None = None) -> Any:
        self.cursor.execute(sql, params or [])
        row = self.cursor.fetchone()
        return row[0] if row else None

    def column_list(self, columns: list[str], prefix: str = "") -> str:
        return ", ".join(f"{prefix}{self.q(c)}" for c in columns)

    def changed_expr(self, pairs: list[tuple[str, str]]) -> str:
        """SQL that is true when any (target, staged) pair differs (NULL-safe)."""
        if not pairs:
            return "(1=0)"
        return "(" + " OR ".join(self.sql.differs(a, b) for a, b in pairs) + ")"

    def missing_reference(self, column: str, sql: str, message: Callable[[Any], str]) -> None:
        """Report rows returned by ``sql`` (row_no, value) as broken references."""
        self.cursor.execute(sql + f" ORDER BY 1 LIMIT {MAX_ERRORS}")
        for row_no, value in self.cursor.fetchall():
            self.errors.add(row_no, self.pos(column), column, message(value))

    def duplicates(self, column: str, keys: list[str], where: str = "") -> None:
        """Report later rows whose natural key repeats an earlier row of the file."""
        on = " AND ".join(f"r.{self.q(k)} = d.{self.q(k)}" for k in keys)
        cols = self.column_list(keys)
        filt = f"WHERE {where}" if where else ""
        self.cursor.execute(
            f"SELECT r.row_no, d.first_row FROM {RAW} r JOIN "
            f"(SELECT {cols}, MIN(row_no) AS first_row FROM {RAW} {filt} "
            f"GROUP BY {cols} HAVING COUNT(*) > 1) d ON {on} "
            f"WHERE r.row_no > d.first_row ORDER BY r.row_no LIMIT {MAX_ERRORS}"
        )
        for row_no, first in self.cursor.fetchall():
            self.errors.add(
                row_no,
                self.pos(column),
                column,
                f"duplicates {self.errors.row_label(first)} (same natural key)",
            )

    def create_territories(self) -> None:
        """A territory code not seen before creates the territory (docs/imports.md)."""
        if not self.present("territory"):
            return
        t = Table(Territory)
        code = t.col("code")
        self.cursor.execute(
            f"INSERT INTO {t} ({code}, {t.col('name')}, {t.col('created_at')}) "
            f"SELECT DISTINCT r.territory, '', %s FROM {RAW} r "
            "WHERE r.territory IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {t} t WHERE t.{code} = r.territory)",
            [self.now],
        )

    def analyze(self, table: str) -> None:
        # Autovacuum never analyzes temporary tables; the planner needs row counts.
        if self.sql.pg:
            self.cursor.execute(f"ANALYZE {table}")

    def index(self, table: str, columns: list[str]) -> None:
        name = f"{table}_{'_'.join(columns)}_idx"
        self.cursor.execute(f"CREATE INDEX {name} ON {table} ({self.column_list(columns)})")

    def count(self, where: str) -> int:
        return int(self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE {where}") or 0)

    def ids(self, sql: str) -> list[int]:
        self.cursor.execute(sql)
        return [r[0] for r in self.cursor.fetchall()]

    def drop(self) -> None:
        for table in (RAW, ATTR, RES, CHANGED):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")
