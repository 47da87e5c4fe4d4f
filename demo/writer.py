"""Append generated frames to tables fast: binary COPY on PostgreSQL, executemany on SQLite.

Frames name their columns by database column (``Field.column``) and use these
dtypes: int64 and bool (numpy), nullable ``Int64``, ``datetime64[s]`` (UTC),
pandas ``Categorical`` and plain object/str columns of text (None = NULL).
Fields with ``auto_now``/``auto_now_add`` that a frame leaves out get the
writer's ``now``.

On PostgreSQL every column travels as an int8 in a binary COPY into a
temporary staging table (text as codes into a small list of distinct values),
and one ``INSERT ... SELECT`` turns the codes back into values. That keeps
Python out of the per-row work: 20 million interactions load in minutes.
``indexes_deferred`` builds secondary indexes and foreign keys once after a
bulk load instead of row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import pandas as pd
from django.core.management.color import no_style
from django.db import models

_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_PGCOPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
_NULL_INT = np.iinfo(np.int64).min  # stands for NULL in a nullable integer column
_SUBSCRIPT_LIMIT = 256  # distinct values up to which an array subscript beats a join


def _datetime_text(values: np.ndarray) -> np.ndarray:
    """datetime64 to 'YYYY-MM-DD HH:MM:SS', the text Django stores for UTC times on SQLite."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s").astype("U19")
    text.view("U1").reshape(-1, 19)[:, 10] = " "
    return text.astype(object)


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """1-based codes into a list of distinct values; 0 stands for NULL."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(np.int64) + 1, [str(v) for v in series.cat.categories]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, [str(v) for v in uniques]


class TableWriter:
    """Appends frames to model tables on the given connection, inside the caller's transaction."""

    def __init__(self, *, connection, now: datetime) -> None:
        self.connection = connection
        self.now = now

    @property
    def postgres(self) -> bool:
        return self.connection.vendor == "postgresql"

    def write(self, model: type[models.Model], frame: pd.DataFrame) -> int:
        """Insert every row of ``frame`` into ``model``'s table; returns the row count."""
        if frame.empty:
            return 0
        auto = [
            f.column
            for f in model._meta.concrete_fields
            if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            and f.column not in frame.columns
        ]
        if self.postgres:
            self._copy(model, frame, auto)
        else:
            self._insert_many(model, frame, auto)
        return len(frame)

    def reset_sequences(self, *model_classes: type[models.Model]) -> None:
        """Move id sequences past explicitly written ids (a no-op on SQLite)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(model_classes))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def analyze(self, *model_classes: type[models.Model]) -> None:
        """Refresh planner statistics after a bulk load (PostgreSQL)."""
        if self.postgres:
            with self.connection.cursor() as cursor:
                for model in model_classes:
                    cursor.execute(
                        f"ANALYZE {self.connection.ops.quote_name(model._meta.db_table)}"
                    )

    @contextmanager
    def indexes_deferred(self, *model_classes: type[models.Model]) -> Iterator[None]:
        """Load these (empty) tables without secondary indexes and constraints, then rebuild them.

        On PostgreSQL, foreign keys, unique constraints and indexes other than
        the primary key are dropped and re-created from their own definitions
        (``pg_get_constraintdef``/``pg_get_indexdef``) after the block, as
        pg_restore does: one sort per index and one join per foreign key instead
        of millions of random index inserts and deferred trigger events. All of
        it runs in the caller's transaction, so a failure restores them. Other
        databases load as they are.
        """
        if not self.postgres:
            yield
            return
        tables = [m._meta.db_table for m in model_classes]
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid = ANY(%s::text[]::regclass[]) "
                "AND contype IN ('f', 'u') ORDER BY contype, conname",
                [tables],
            )
            constraints = cursor.fetchall()  # foreign keys ('f') sort before unique ('u')
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = ANY(%s::text[]::regclass[]) "
                "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
                "AND c.contype IN ('p', 'u', 'x')) ORDER BY 1",
                [tables],
            )
            indexes = cursor.fetchall()
            qn = self.connection.ops.quote_name
            # Run the deferred checks of rows written so far: a table with
            # pending trigger events cannot be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, name, _kind, _definition in constraints:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        with self.connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, _kind, definition in reversed(constraints):  # unique before FKs
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default

    # -- SQLite and others: one executemany per frame

    def _insert_many(self, model, frame: pd.DataFrame, auto: list[str]) -> None:
        columns = []
        for name in frame.columns:
            series = frame[name]
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                values = _datetime_text(series.to_numpy())
            elif isinstance(series.dtype, pd.CategoricalDtype):
                lookup = np.array([*map(str, series.cat.categories), None], dtype=object)
                values = lookup[series.cat.codes.to_numpy()]  # code -1 picks None
            elif series.dtype == bool:
                values = series.to_numpy()
            else:
                values = series.astype(object).where(series.notna(), None).to_numpy()
            columns.append(values.tolist())
        stamp = self.connection.ops.adapt_datetimefield_value(self.now)
        columns.extend([[stamp] * len(frame) for _ in auto])
        names = [*frame.columns, *auto]
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            self.connection.ops.quote_name(model._meta.db_table),
            ", ".join(self.connection.ops.quote_name(c) for c in names),
            ", ".join(["%s"] * len(names)),
        )
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, list(zip(*columns, strict=True)))

    # -- PostgreSQL: binary COPY of int8 columns into a staging table, then INSERT ... SELECT

    def _copy(self, model, frame: pd.DataFrame, auto: list[str]) -> None:
        qn = self.connection.ops.quote_name
        fields = {f.column: f for f in model._meta.concrete_fields}
        arrays, expressions, params, joins, join_params = [], [], [], [], []
        for i, name in enumerate(frame.columns):
            series = frame[name]
            db_type = fields[name].db_type(self.connection)
            ref = f"s.c{i}"
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                arrays.append(series.to_numpy().astype("datetime64[s]").astype(np.int64))
                expressions.append(f"to_timestamp({ref})")
            elif series.dtype == bool:
                arrays.append(series.to_numpy().astype(np.int64))
                expressions.append(f"({ref} <> 0)")
            elif pd.api.types.is_integer_dtype(series.dtype):
                if series.hasnans:
                    arrays.append(series.to_numpy(dtype=np.int64, na_value=_NULL_INT))
                    expressions.append(f"NULLIF({ref}, {_NULL_INT})::{db_type}")
                else:
                    arrays.append(series.to_numpy(dtype=np.int64))
                    expressions.append(f"{ref}::{db_type}")
            else:
                codes, values = _codes(series)
                arrays.append(codes)
                if len(values) <= _SUBSCRIPT_LIMIT:
                    expressions.append(f"(%s::text[])[{ref}]::{db_type}")
                    params.append(values)
                else:
                    # Subscripting a long text[] walks it from the start on every
                    # row; join the distinct values by position instead.
                    expressions.append(f"v{i}.val::{db_type}")
                    joins.append(
                        f"LEFT JOIN unnest(%s::text[]) WITH ORDINALITY AS v{i}(val, pos) "
                        f"ON v{i}.pos = {ref}"
                    )
                    join_params.append(values)
        for _ in auto:
            expressions.append("%s")
            params.append(self.now)

        stage = self._stage(len(arrays))
        record = np.dtype(
            [("n", ">i2")]
            + [item for i in range(len(arrays)) for item in ((f"l{i}", ">i4"), (f"v{i}", ">i8"))]
        )
        rows = np.empty(len(frame), dtype=record)
        rows["n"] = len(arrays)
        for i, values in enumerate(arrays):
            rows[f"l{i}"] = 8
            rows[f"v{i}"] = values
        with self.connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {stage}")
            with cursor.copy(f"COPY {stage} FROM STDIN WITH (FORMAT binary)") as copy:
                copy.write(_PGCOPY_HEADER)
                copy.write(rows.tobytes())
                copy.write(_PGCOPY_TRAILER)
            cursor.execute(
                "INSERT INTO {} ({}) SELECT {} FROM {} s {}".format(
                    qn(model._meta.db_table),
                    ", ".join(qn(c) for c in [*frame.columns, *auto]),
                    ", ".join(expressions),
                    stage,
                    " ".join(joins),
                ),
                [*params, *join_params],
            )

    def _stage(self, width: int) -> str:
        """A temporary table of ``width`` int8 columns, dropped at commit."""
        name = f"seed_demo_stage_{width}"
        columns = ", ".join(f"c{i} int8 NOT NULL" for i in range(width))
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP"
            )
            # The staging table has no statistics, so row estimates are wild and
            # would trigger seconds of JIT compilation for a sub-second insert.
            cursor.execute("SET LOCAL jit = off")
        return name
