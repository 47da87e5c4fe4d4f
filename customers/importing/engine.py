"""Validate rows, stage them in a temporary table and upsert them set-based in SQL.

Design (all inside the caller's transaction, so an import is all or nothing):

1. The header is checked; then rows stream through the cell parsers of
   ``fields`` and valid rows are written to a temporary staging table in chunks
   (``COPY`` on PostgreSQL, ``executemany`` on SQLite). Memory stays flat in the
   file size: only one chunk is ever held in Python.
2. Checks that need more than one row — references to existing accounts and
   customers, duplicate natural keys within the file, account parent cycles —
   run as SQL over the staging table.
3. With no errors, a resolved table joins staged rows to their targets and
   flags changed rows; ``UPDATE ... FROM`` and ``INSERT ... SELECT`` then write
   only what differs, so re-importing a file writes nothing.

Duplicate natural keys within one file are an error (reported on the later row)
rather than "last wins": a file that says two things about one record is
ambiguous, and refusing it keeps re-imports deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from core.errors import ErrorDetail, ValidationFailed

from . import fields as f
from .kinds import (
    ATTR_KEY_MAX,
    ATTR_PREFIX,
    ATTR_VALUE_MAX,
    BOOL,
    DATE,
    DATETIME,
    INT,
    TEXT,
    Kind,
)

MAX_ERRORS = 1000
_IMPORT_LOCK_KEY = 7_201_312  # any constant; names the import lock
CHUNK_ROWS = 5000

RAW, ATTR, RES, CHANGED = "imp_raw", "imp_attr", "imp_res", "imp_changed"

PathFormatter = Callable[[int, str], str]


def file_path(row: int, column: str) -> str:
    """Error path of a file import: ``row N: column``."""
    return f"row {row}: {column}"


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customer_ids: list[int] = field(default_factory=list)


class _Errors:
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
class _Layout:
    """Where each known column and each ``attr.`` column sits in the file."""

    positions: dict[str, int]  # column name -> index in the file
    attributes: list[tuple[int, str]]  # (index, key)
    width: int


def read_header(kind: Kind, header: list[str]) -> _Layout:
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
    return _Layout(positions, attributes, len(header))


class _Sql:
    """Backend differences, kept to the few places they matter."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.pg = self.vendor == "postgresql"
        self.q = connection.ops.quote_name

    def type(self, kind: str) -> str:
        if self.pg:
            return {
                TEXT: "text",
                INT: "bigint",
                BOOL: "boolean",
                DATETIME: "timestamptz",
                DATE: "date",
                "decimal": "numeric",
            }[kind]
        return {
            TEXT: "text",
            INT: "integer",
            BOOL: "integer",
            DATETIME: "text",
            DATE: "text",
            "decimal": "decimal",
        }[kind]

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


class _Stage:
    """A temporary table filled in chunks.

    On PostgreSQL a table filled alone (``stream=True``) gets one ``COPY`` for
    the whole file, written by a background thread (psycopg's queued writer),
    so the server ingests rows while Python parses the next ones; memory stays
    bounded by the writer's queue. Otherwise rows are buffered and sent
    ``CHUNK_ROWS`` at a time.
    """

    def __init__(
        self, sql: _Sql, cursor, name: str, columns: list[tuple[str, str]], stream: bool = False
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


def _stage_columns(kind: Kind) -> list[tuple[str, str]]:
    return [("row_no", INT)] + [(c.name, c.type) for c in kind.columns]


def _stage_rows(
    kind: Kind,
    layout: _Layout,
    rows: Iterator[tuple[int, list[str]]],
    raw: _Stage,
    attrs: _Stage | None,
    errors: _Errors,
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


class _Run:
    """One import of one kind: staging, checks, writes."""

    def __init__(self, kind: Kind, layout: _Layout, errors: _Errors, now: dt.datetime) -> None:
        self.kind, self.layout, self.errors, self.now = kind, layout, errors, now
        self.sql = _Sql()
        self.q = self.sql.q
        self.cursor = connection.cursor()

    # -- helpers -----------------------------------------------------------
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
        """A territory code not seen before creates the territory (data.md)."""
        if not self.present("territory"):
            return
        self.cursor.execute(
            "INSERT INTO accounts_territory (code, name, created_at) "
            f"SELECT DISTINCT r.territory, '', %s FROM {RAW} r "
            "WHERE r.territory IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM accounts_territory t WHERE t.code = r.territory)",
            [self.sql.now(self.now)],
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


# -- kinds ---------------------------------------------------------------------


def _accounts(run: _Run, outcome: Outcome) -> None:
    q = run.q
    run.index(RAW, ["account_id"])
    run.analyze(RAW)
    if run.present("parent_account_id"):
        run.missing_reference(
            "parent_account_id",
            f"SELECT r.row_no, r.parent_account_id FROM {RAW} r "
            "WHERE r.parent_account_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM customers_account a "
            "WHERE a.account_id = r.parent_account_id) "
            f"AND NOT EXISTS (SELECT 1 FROM {RAW} p WHERE p.account_id = r.parent_account_id)",
            lambda v: f"no account '{v}' in the database or in this file",
        )
    run.duplicates("account_id", ["account_id"])
    if run.present("parent_account_id") and not run.errors.items:
        # Walk up from every account of the file through the hierarchy as it
        # will be after the import (file rows replace their database rows).
        run.missing_reference(
            "parent_account_id",
            "WITH RECURSIVE edges(child, parent) AS ("
            f" SELECT account_id, parent_account_id FROM {RAW}"
            " WHERE parent_account_id IS NOT NULL"
            " UNION ALL SELECT a.account_id, a.parent_id FROM customers_account a"
            " WHERE a.parent_id IS NOT NULL AND NOT EXISTS"
            f" (SELECT 1 FROM {RAW} r WHERE r.account_id = a.account_id)),"
            " walk(start, cur) AS ("
            f" SELECT child, parent FROM edges WHERE child IN (SELECT account_id FROM {RAW})"
            " UNION SELECT w.start, e.parent FROM walk w JOIN edges e ON e.child = w.cur"
            " WHERE w.cur <> w.start) "
            f"SELECT r.row_no, r.parent_account_id FROM {RAW} r WHERE EXISTS"
            " (SELECT 1 FROM walk w WHERE w.start = r.account_id AND w.cur = r.account_id)",
            lambda v: "makes the account hierarchy a cycle",
        )
    run.errors.raise_if_any()

    targets = {
        "name": "name",
        "account_type": "account_type",
        "parent_account_id": "parent_id",
        "state": "state",
        "zip": "zip",
        "territory": "territory_id",
        "bed_count": "bed_count",
        "formulary_status": "formulary_status",
    }
    present = [(src, dst) for src, dst in targets.items() if run.present(src)]
    changed = run.changed_expr([(f"a.{q(dst)}", f"r.{q(src)}") for src, dst in present])
    run.cursor.execute(
        f"CREATE TEMPORARY TABLE {RES} AS SELECT r.*, a.account_id AS target_id, "
        f"(a.account_id IS NOT NULL AND {changed}) AS changed "
        f"FROM {RAW} r LEFT JOIN customers_account a ON a.account_id = r.account_id"
    )
    run.analyze(RES)
    outcome.created = run.count("target_id IS NULL")
    outcome.updated = run.count("changed")
    run.create_territories()
    now = run.sql.now(run.now)
    if outcome.updated:
        sets = ", ".join(f"{q(dst)} = {RES}.{q(src)}" for src, dst in present)
        run.cursor.execute(
            f"UPDATE customers_account SET {sets}, updated_at = %s FROM {RES} "
            f"WHERE {RES}.account_id = customers_account.account_id AND {RES}.changed",
            [now],
        )
    if outcome.created:
        dst = ["account_id"] + list(targets.values())
        src = ["account_id"] + list(targets.keys())
        run.cursor.execute(
            f"INSERT INTO customers_account ({run.column_list(dst)}, updated_at) "
            f"SELECT {run.column_list(src)}, %s FROM {RES} WHERE target_id IS NULL",
            [now],
        )
    # Account fields feed rules through ``account.`` paths: the affiliated
    # customers of a changed account need recomputing. New accounts have none.
    outcome.customer_ids = run.ids(
        "SELECT c.id FROM customers_customer c WHERE c.account_id IN "
        f"(SELECT account_id FROM {RES} WHERE changed)"
    )


def _customers(run: _Run, outcome: Outcome) -> None:
    q = run.q
    run.index(RAW, ["npi"])
    run.analyze(RAW)
    if run.present("account_id"):
        run.missing_reference(
            "account_id",
            f"SELECT r.row_no, r.account_id FROM {RAW} r WHERE r.account_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM customers_account a WHERE a.account_id = r.account_id)",
            lambda v: f"no account '{v}'",
        )
    run.duplicates("npi", ["npi"])
    run.errors.raise_if_any()

    targets = {c.name: c.target for c in run.kind.columns if c.name != "npi"}
    present = [(src, dst) for src, dst in targets.items() if run.present(src)]
    changed = run.changed_expr([(f"c.{q(dst)}", f"r.{q(src)}") for src, dst in present])
    run.cursor.execute(
        f"CREATE TEMPORARY TABLE {RES} AS SELECT r.*, c.id AS target_id, "
        f"(c.id IS NOT NULL AND {changed}) AS changed "
        f"FROM {RAW} r LEFT JOIN customers_customer c ON c.npi = r.npi"
    )
    run.analyze(RES)
    # Existing customers whose columns or attributes change.
    attr_changes = ""
    if run.layout.attributes:
        run.index(ATTR, ["npi", "key"])
        run.analyze(ATTR)
        attr_changes = (
            f" UNION SELECT c.id FROM {ATTR} x JOIN customers_customer c ON c.npi = x.npi"
            " LEFT JOIN customers_customerattribute ca"
            f" ON ca.customer_id = c.id AND ca.{q('key')} = x.{q('key')}"
            " WHERE (x.value = '' AND ca.id IS NOT NULL)"
            " OR (x.value <> '' AND (ca.id IS NULL OR ca.value <> x.value))"
        )
    run.cursor.execute(
        f"CREATE TEMPORARY TABLE {CHANGED} AS SELECT target_id AS customer_id FROM {RES} "
        f"WHERE changed{attr_changes}"
    )
    outcome.created = run.count("target_id IS NULL")
    outcome.updated = int(run.scalar(f"SELECT COUNT(*) FROM {CHANGED}") or 0)
    run.create_territories()
    now = run.sql.now(run.now)
    if outcome.updated:
        sets = "".join(f"{q(dst)} = {RES}.{q(src)}, " for src, dst in present)
        run.cursor.execute(
            f"UPDATE customers_customer SET {sets}updated_at = %s FROM {RES} "
            f"WHERE customers_customer.id = {RES}.target_id "
            f"AND {RES}.target_id IN (SELECT customer_id FROM {CHANGED})",
            [now],
        )
    if outcome.created:
        dst = ["npi"] + list(targets.values())
        src = ["npi"] + list(targets.keys())
        run.cursor.execute(
            f"INSERT INTO customers_customer ({run.column_list(dst)}, created_at, updated_at) "
            f"SELECT {run.column_list(src)}, %s, %s FROM {RES} WHERE target_id IS NULL "
            "ORDER BY npi",
            [now, now],
        )
    if run.layout.attributes:
        key = q("key")
        pairs = f"FROM {ATTR} x JOIN customers_customer c ON c.npi = x.npi"
        run.cursor.execute(
            "DELETE FROM customers_customerattribute WHERE id IN (SELECT ca.id "
            f"{pairs} JOIN customers_customerattribute ca "
            f"ON ca.customer_id = c.id AND ca.{key} = x.{key} WHERE x.value = '')"
        )
        run.cursor.execute(
            "UPDATE customers_customerattribute SET value = v.value, number = v.number "
            f"FROM (SELECT c.id AS cid, x.{key} AS k, x.value, x.number {pairs} "
            "WHERE x.value <> '') v WHERE customers_customerattribute.customer_id = v.cid "
            f"AND customers_customerattribute.{key} = v.k "
            "AND customers_customerattribute.value <> v.value"
        )
        run.cursor.execute(
            f"INSERT INTO customers_customerattribute (customer_id, {key}, value, number) "
            f"SELECT c.id, x.{key}, x.value, x.number {pairs} WHERE x.value <> '' "
            "AND NOT EXISTS (SELECT 1 FROM customers_customerattribute ca "
            f"WHERE ca.customer_id = c.id AND ca.{key} = x.{key})"
        )
    outcome.customer_ids = run.ids(
        f"SELECT customer_id FROM {CHANGED} UNION SELECT c.id FROM customers_customer c "
        f"JOIN {RES} r ON c.npi = r.npi WHERE r.target_id IS NULL"
    )


def _missing_customers(run: _Run) -> None:
    run.missing_reference(
        "npi",
        f"SELECT r.row_no, r.npi FROM {RAW} r WHERE NOT EXISTS "
        "(SELECT 1 FROM customers_customer c WHERE c.npi = r.npi)",
        lambda v: f"no customer with NPI {v}",
    )


def _interactions(run: _Run, outcome: Outcome) -> None:
    q = run.q
    run.analyze(RAW)
    _missing_customers(run)
    natural = ["npi", "occurred_at", "channel", "kind", "topic", "asset"]
    if run.present("external_id"):
        run.duplicates("external_id", ["external_id"], "external_id IS NOT NULL")
    run.duplicates("npi", natural, "external_id IS NULL")
    run.errors.raise_if_any()

    values = ["occurred_at", "channel", "kind", "topic", "asset"]
    present = ["customer_id"] + [v for v in values if run.present(v)]
    changed = run.changed_expr(
        [("i.customer_id", "c.id")] + [(f"i.{q(v)}", f"r.{q(v)}") for v in values if run.present(v)]
    )
    select = (
        "SELECT r.row_no, c.id AS customer_id, r.occurred_at, r.channel, r.kind, r.topic, "
        "r.asset, r.external_id, i.id AS target_id, i.customer_id AS old_customer_id, "
    )
    join = f"FROM {RAW} r JOIN customers_customer c ON c.npi = r.npi "
    run.cursor.execute(
        f"CREATE TEMPORARY TABLE {RES} AS "
        f"{select}(i.id IS NOT NULL AND {changed}) AS changed {join}"
        "LEFT JOIN customers_interaction i ON i.external_id = r.external_id "
        "AND i.external_id IS NOT NULL WHERE r.external_id IS NOT NULL "
        f"UNION ALL {select}(1=0) AS changed {join}"
        "LEFT JOIN customers_interaction i ON i.external_id IS NULL "
        "AND i.customer_id = c.id AND i.occurred_at = r.occurred_at "
        "AND i.channel = r.channel AND i.kind = r.kind AND i.topic = r.topic "
        "AND i.asset = r.asset WHERE r.external_id IS NULL"
    )
    run.analyze(RES)
    outcome.created = run.count("target_id IS NULL")
    outcome.updated = run.count("changed")
    if outcome.updated:
        sets = ", ".join(f"{q(c)} = {RES}.{q(c)}" for c in present)
        run.cursor.execute(
            f"UPDATE customers_interaction SET {sets} FROM {RES} "
            f"WHERE customers_interaction.id = {RES}.target_id AND {RES}.changed"
        )
    if outcome.created:
        cols = ["customer_id", *values, "external_id"]
        run.cursor.execute(
            f"INSERT INTO customers_interaction ({run.column_list(cols)}, created_at) "
            # In index order: neighbouring rows land on the same index pages.
            f"SELECT {run.column_list(cols)}, %s FROM {RES} WHERE target_id IS NULL "
            "ORDER BY customer_id, occurred_at",
            [run.sql.now(run.now)],
        )
    outcome.customer_ids = run.ids(
        f"SELECT customer_id FROM {RES} WHERE target_id IS NULL OR changed "
        f"UNION SELECT old_customer_id FROM {RES} WHERE changed"
    )


def _rx(run: _Run, outcome: Outcome) -> None:
    q = run.q
    run.analyze(RAW)
    _missing_customers(run)
    run.duplicates("npi", ["npi", "month", "product"])
    run.errors.raise_if_any()

    measures = ["nrx", "trx", "new_patient_starts"]
    changed = run.changed_expr([(f"x.{q(m)}", f"r.{q(m)}") for m in measures])
    run.cursor.execute(
        f"CREATE TEMPORARY TABLE {RES} AS SELECT r.row_no, c.id AS customer_id, r.month, "
        "r.product, r.nrx, r.trx, r.new_patient_starts, x.id AS target_id, "
        f"(x.id IS NOT NULL AND {changed}) AS changed FROM {RAW} r "
        "JOIN customers_customer c ON c.npi = r.npi LEFT JOIN customers_rxfact x "
        "ON x.customer_id = c.id AND x.month = r.month AND x.product = r.product"
    )
    run.analyze(RES)
    outcome.created = run.count("target_id IS NULL")
    outcome.updated = run.count("changed")
    if outcome.updated:
        sets = ", ".join(f"{q(m)} = {RES}.{q(m)}" for m in measures)
        run.cursor.execute(
            f"UPDATE customers_rxfact SET {sets} FROM {RES} "
            f"WHERE customers_rxfact.id = {RES}.target_id AND {RES}.changed"
        )
    if outcome.created:
        cols = ["customer_id", "month", "product", *measures]
        run.cursor.execute(
            f"INSERT INTO customers_rxfact ({run.column_list(cols)}) "
            f"SELECT {run.column_list(cols)} FROM {RES} WHERE target_id IS NULL "
            "ORDER BY customer_id, month, product"
        )
    outcome.customer_ids = run.ids(
        f"SELECT DISTINCT customer_id FROM {RES} WHERE target_id IS NULL OR changed"
    )


_WRITERS = {
    "accounts": _accounts,
    "customers": _customers,
    "interactions": _interactions,
    "rx": _rx,
}


def run_import(
    *,
    kind: Kind,
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    now: dt.datetime,
    path: PathFormatter = file_path,
    skip_blank_rows: bool = True,
    row_label: Callable[[int], str] = lambda row: f"row {row}",
) -> Outcome:
    """Validate and write one file's rows; raise ValidationFailed listing every problem.

    Must run inside a transaction (the caller's), which the raise rolls back.
    """
    layout = read_header(kind, header)
    errors = _Errors(path, row_label)
    run = _Run(kind, layout, errors, now)
    outcome = Outcome()
    try:
        if run.sql.pg:
            # One import at a time: the created/updated counts and the
            # insert-if-missing statements assume nobody else writes these
            # tables meanwhile. (SQLite's single writer already serialises.)
            run.cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])
        # Two staging tables cannot both hold an open COPY: stream only when alone.
        raw = _Stage(run.sql, run.cursor, RAW, _stage_columns(kind), stream=not layout.attributes)
        attrs = None
        if layout.attributes:
            attrs = _Stage(
                run.sql,
                run.cursor,
                ATTR,
                [
                    ("row_no", INT),
                    ("npi", TEXT),
                    ("key", TEXT),
                    ("value", TEXT),
                    ("number", "decimal"),
                ],
            )
        for table in (RES, CHANGED):
            run.cursor.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            outcome.rows = _stage_rows(kind, layout, rows, raw, attrs, errors, skip_blank_rows)
        except BaseException as exc:
            raw.close(exc)  # the COPY must end before the rollback
            raise
        _WRITERS[kind.name](run, outcome)
        errors.raise_if_any()
        outcome.unchanged = outcome.rows - outcome.created - outcome.updated
        run.drop()
    finally:
        run.cursor.close()
    return outcome
