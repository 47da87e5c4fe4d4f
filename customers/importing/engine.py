"""Validate rows, stage them in a temporary table and upsert them set-based in SQL.

The public entry points are ``run_import`` and ``Outcome``; what they do for
users (all or nothing, ``row N: column: message``, upserts) is docs/imports.md.

Design (all inside the caller's transaction, so an import is all or nothing):

1. The header is checked; then rows stream through the cell parsers of
   ``fields`` and valid rows are written to a temporary staging table in chunks
   (``rows`` and ``staging``: ``COPY`` on PostgreSQL, ``executemany`` on
   SQLite). Memory stays flat in the file size: only one chunk is ever held in
   Python.
2. Checks that need more than one row — references to existing accounts and
   customers, duplicate natural keys within the file, account parent cycles —
   run as SQL over the staging table (``run`` and ``writers``).
3. With no errors, a resolved table joins staged rows to their targets and
   flags changed rows; ``UPDATE ... FROM`` and ``INSERT ... SELECT`` then write
   only what differs, so re-importing a file writes nothing (``writers``).

Duplicate natural keys within one file are an error (reported on the later row)
rather than "last wins": a file that says two things about one record is
ambiguous, and refusing it keeps re-imports deterministic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .kinds import Kind
from .rows import Errors, PathFormatter, file_path, read_header, stage_rows
from .run import Run
from .staging import ATTR, ATTRIBUTE_COLUMNS, CHANGED, RAW, RES, Stage, stage_columns
from .writers import WRITERS

__all__ = ["Outcome", "PathFormatter", "file_path", "run_import"]

_IMPORT_LOCK_KEY = 7_201_312  # any constant; names the import lock


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customer_ids: list[int] = field(default_factory=list)


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
    errors = Errors(path, row_label)
    run = Run(kind, layout, errors, now)
    outcome = Outcome()
    try:
        if run.sql.pg:
            # One import at a time: the created/updated counts and the
            # insert-if-missing statements assume nobody else writes these
            # tables meanwhile. (SQLite's single writer already serialises.)
            run.cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])
        # Two staging tables cannot both hold an open COPY: stream only when alone.
        raw = Stage(run.sql, run.cursor, RAW, stage_columns(kind), stream=not layout.attributes)
        attrs = None
        if layout.attributes:
            attrs = Stage(run.sql, run.cursor, ATTR, ATTRIBUTE_COLUMNS)
        for table in (RES, CHANGED):
            run.cursor.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            outcome.rows = stage_rows(kind, layout, rows, raw, attrs, errors, skip_blank_rows)
        except BaseException as exc:
            raw.close(exc)  # the COPY must end before the rollback
            raise
        written = WRITERS[kind.name](run).write()
        outcome.created, outcome.updated, outcome.customer_ids = written
        errors.raise_if_any()
        outcome.unchanged = outcome.rows - outcome.created - outcome.updated
        run.drop()
    finally:
        run.cursor.close()
    return outcome
