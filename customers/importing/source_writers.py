"""Stage and upsert the public files' rows set-based in SQL (docs/sources.md).

``run_source`` is the entry point, the counterpart of ``engine.run_import`` for
the published layouts: the header is checked, rows stream from
``sources.PARSERS`` into a temporary table (``COPY`` on PostgreSQL), checks
over the whole file run in SQL (an NPI or code repeated), and with no error one
writer per kind resolves staged rows against their targets and writes only
what differs, so a re-import writes nothing and reports every row unchanged.
All inside the caller's transaction: all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.db import connection

from accounts.models import Territory
from customers.models import (
    Account,
    Customer,
    RxAnnualFact,
    RxFact,
    TaxonomyCode,
    ZipAlignment,
)

from . import layouts as L
from .engine import _IMPORT_LOCK_KEY
from .kinds import DATE, INT, TEXT
from .rows import MAX_ERRORS, Errors, file_path
from .run import Table
from .sources import PARSERS, Rows, SourceOutcome, check_options, read_header
from .staging import RAW, RES, Sql, Stage

logger = logging.getLogger(__name__)

SHIPPED_MAPPING = Path(__file__).resolve().parent.parent / "data" / "taxonomy_specialty.csv"
MAP, PRODUCTS, MOVED, ARES = "imp_taxmap", "imp_products", "imp_moved", "imp_ares"
CHANGED_IDS = "imp_changed_ids"  # the customers whose data changed, announced in pages
_TEMP = (RAW, RES, MAP, PRODUCTS, MOVED, ARES)


def shipped_mapping() -> dict[str, str]:
    """The taxonomy-to-specialty mapping shipped with the product (code -> specialty)."""
    with SHIPPED_MAPPING.open(newline="", encoding="utf-8") as handle:
        return {row["code"]: row["specialty"] for row in csv.DictReader(handle)}


def tracked_products() -> list[str]:
    """Products the company tracks: those of rx facts, monthly or yearly, and
    ``RX_TRACKED_PRODUCTS`` (settings)."""
    named = [p.strip() for p in getattr(settings, "RX_TRACKED_PRODUCTS", []) if p.strip()]
    known = set(RxFact.objects.order_by().values_list("product", flat=True).distinct())
    known |= set(RxAnnualFact.objects.order_by().values_list("product", flat=True).distinct())
    return [*named, *sorted(known)]


class SourceWriter:
    """One import of a published file: cursor, SQL helpers, and the kind's hooks."""

    staged: ClassVar[list[tuple[str, str]]]
    key: ClassVar[list[str]]  # staged columns unique within a file
    key_column: ClassVar[str]  # the published column named in a duplicate's error

    def __init__(self, *, header, positions, errors: Errors, now, options, out) -> None:
        self.header, self.positions, self.errors = header, positions, errors
        self.options, self.out = options, out
        self.sql = Sql()
        self.now = self.sql.now(now)
        self.cursor = connection.cursor()

    # -- helpers -----------------------------------------------------------------
    def ex(self, sql: str, params: list | None = None) -> None:
        """Run one statement; its time is logged (DEBUG) to profile a large import."""
        start = time.perf_counter()
        self.cursor.execute(sql, params or None)
        if logger.isEnabledFor(logging.DEBUG):
            seconds = time.perf_counter() - start
            logger.debug("%.2f s, %s rows: %s", seconds, self.cursor.rowcount, sql[:160])

    def scalar(self, sql: str, params: list | None = None) -> int:
        self.ex(sql, params)
        row = self.cursor.fetchone()
        return int(row[0] or 0) if row else 0

    def counts(self, table: str, **conditions: str) -> dict[str, int]:
        """How many rows of ``table`` meet each condition: one scan for all of them."""
        sums = ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in conditions.values())
        self.ex(f"SELECT {sums} FROM {table}")
        row = self.cursor.fetchone() or ()
        return {name: int(n or 0) for name, n in zip(conditions, row, strict=False)}

    def collect(self, sql: str) -> int:
        """Add the customer ids ``sql`` selects to ``CHANGED_IDS`` (recomputed after
        the import); return how many. Kept in the database, not in Python: an
        NPPES import changes millions."""
        self.ex(f"INSERT INTO {CHANGED_IDS} (id) {sql}")
        return max(self.cursor.rowcount, 0)

    def analyze(self, table: str) -> None:
        if self.sql.pg:
            self.ex(f"ANALYZE {table}")

    def differs(self, pairs: list[tuple[str, str]]) -> str:
        return "(" + " OR ".join(self.sql.differs(a, b) for a, b in pairs) + ")"

    def resolved(self, values: dict[str, str], target: str) -> tuple[str, str]:
        """SELECT list of ``values`` (column -> SQL expression), and SQL true when
        any differs from the target row's column (alias ``target``)."""
        select = ", ".join(f"{expr} AS {name}" for name, expr in values.items())
        return select, self.differs([(f"{target}.{name}", expr) for name, expr in values.items()])

    def false(self) -> str:
        return "(1=0)"

    def duplicates(self) -> None:
        """A key repeated in the file is an error on the later row."""
        cols = ", ".join(self.key)
        on = " AND ".join(f"r.{k} = d.{k}" for k in self.key)
        self.ex(
            f"SELECT r.row_no, d.first_row FROM {RAW} r JOIN (SELECT {cols}, MIN(row_no) "
            f"AS first_row FROM {RAW} GROUP BY {cols} HAVING COUNT(*) > 1) d ON {on} "
            f"WHERE r.row_no > d.first_row ORDER BY r.row_no LIMIT {MAX_ERRORS}"
        )
        position = self.positions.get(self.key_column.lower(), 0)
        for row_no, first in self.cursor.fetchall():
            self.errors.add(row_no, position, self.key_column, f"duplicates row {first}")

    def zip_joins(self, zip_expr: str) -> str:
        """Joins ``z5``/``z3``: the alignment rows of a zip and of its 3-digit prefix."""
        z = Table(ZipAlignment)
        return (
            f"LEFT JOIN {z} z5 ON z5.zip = {zip_expr} "
            f"LEFT JOIN {z} z3 ON z3.zip = substr({zip_expr}, 1, 3)"
        )

    def load_mapping(self) -> None:
        """``MAP``: the shipped mapping, which imported taxonomy rows override."""
        self.ex(f"DROP TABLE IF EXISTS {MAP}")
        self.ex(f"CREATE TEMPORARY TABLE {MAP} (code text PRIMARY KEY, specialty text)")
        self.cursor.executemany(
            f"INSERT INTO {MAP} (code, specialty) VALUES (%s, %s)",
            list(shipped_mapping().items()),
        )

    def drop(self) -> None:
        for table in _TEMP:
            self.ex(f"DROP TABLE IF EXISTS {table}")

    # -- hooks ----------------------------------------------------------------------
    def write(self) -> None:
        """Write the staged rows; ``collect`` the ids of customers whose data changed."""
        raise NotImplementedError


class NppesWriter(SourceWriter):
    """Entity Type 1 rows -> customers, 2 -> accounts (keyed by NPI), 0 -> deactivations."""

    staged = [
        ("row_no", INT),
        ("npi", TEXT),
        ("entity", INT),
        ("first_name", TEXT),
        ("last_name", TEXT),
        ("credential", TEXT),
        ("state", TEXT),
        ("zip", TEXT),
        ("taxonomy", TEXT),
        ("org_name", TEXT),
        ("deactivated_on", DATE),
    ]
    key = ["npi"]
    key_column = L.NPPES_NPI

    def write(self) -> None:
        self.ex(f"CREATE INDEX {RAW}_npi_idx ON {RAW} (npi)")
        self.analyze(RAW)
        self.duplicates()
        self.errors.raise_if_any()
        self.load_mapping()
        self.customers()
        self.accounts()
        self.deactivations()

    def customers(self) -> None:
        c, t = Table(Customer), Table(TaxonomyCode)
        values = {
            "first_name": "r.first_name",
            "last_name": "r.last_name",
            "credential": "r.credential",
            "specialty": "COALESCE(t.specialty, m.specialty, 'other')",
            "state": "r.state",
            "zip": "r.zip",
            "territory_id": "COALESCE(z5.territory_id, z3.territory_id, c.territory_id)",
            "taxonomy_code": "r.taxonomy",
            "active": "(r.deactivated_on IS NULL)",
            "deactivated_on": "r.deactivated_on",
        }
        select, changed = self.resolved(values, "c")
        self.ex(
            f"CREATE TEMPORARY TABLE {RES} AS SELECT r.row_no, r.npi, {select}, "
            f"(t.code IS NULL AND m.code IS NULL) AS unmapped, c.id AS target_id, "
            f"(c.id IS NOT NULL AND {changed}) AS changed FROM {RAW} r "
            f"LEFT JOIN {c} c ON c.npi = r.npi LEFT JOIN {t} t ON t.code = r.taxonomy "
            f"LEFT JOIN {MAP} m ON m.code = r.taxonomy {self.zip_joins('r.zip')} "
            "WHERE r.entity = 1"
        )
        self.analyze(RES)
        n = self.counts(
            RES,
            created="target_id IS NULL",
            updated="changed",
            unmapped="unmapped AND taxonomy_code <> ''",
            untyped="taxonomy_code = ''",
        )
        created, updated = n["created"], n["updated"]
        out = self.out
        out.created += created
        out.updated += updated
        out.note(
            "individuals whose primary taxonomy is unmapped (imported as other)", n["unmapped"]
        )
        out.note("individuals without a taxonomy (imported as other)", n["untyped"])
        self.collect(f"SELECT target_id FROM {RES} WHERE changed")
        names = list(values)
        if updated:
            sets = ", ".join(f"{n} = {RES}.{n}" for n in names)
            self.ex(
                f"UPDATE {c} SET {sets}, updated_at = %s FROM {RES} "
                f"WHERE {c}.id = {RES}.target_id AND {RES}.changed",
                [self.now],
            )
        if created:
            f = self.false()
            insert = (
                f"INSERT INTO {c} (npi, {', '.join(names)}, role, practice_setting, "
                f"email_opt_out, created_at, updated_at) SELECT npi, {', '.join(names)}, '', '', "
                f"{f}, %s, %s FROM {RES} WHERE target_id IS NULL ORDER BY npi"
            )
            if self.sql.pg:
                # The new ids as they are written, rather than a join back over millions.
                self.ex(
                    f"WITH new AS ({insert} RETURNING id) INSERT INTO {CHANGED_IDS} (id) "
                    "SELECT id FROM new",
                    [self.now, self.now],
                )
                return
            self.ex(insert, [self.now, self.now])
            self.collect(
                f"SELECT c.id FROM {c} c JOIN {RES} r ON c.npi = r.npi WHERE r.target_id IS NULL"
            )

    def accounts(self) -> None:
        a, c = Table(Account), Table(Customer)
        values = {
            "name": "r.org_name",
            "state": "r.state",
            "zip": "r.zip",
            "territory_id": "COALESCE(z5.territory_id, z3.territory_id, a.territory_id)",
            "active": "(r.deactivated_on IS NULL)",
            "deactivated_on": "r.deactivated_on",
        }
        select, changed = self.resolved(values, "a")
        # The account type a new account gets from its primary taxonomy (docs/sources.md).
        account_type = (
            "CASE WHEN r.taxonomy = '3336S0011X' THEN 'specialty_pharmacy' "
            "WHEN substr(r.taxonomy, 1, 4) = '3336' THEN 'retail_pharmacy' "
            "WHEN r.taxonomy = '261QI0500X' THEN 'infusion_center' "
            "WHEN substr(r.taxonomy, 1, 2) IN ('27', '28') THEN 'hospital' "
            "WHEN substr(r.taxonomy, 1, 4) = '261Q' THEN 'clinic' "
            "ELSE 'community_practice' END"
        )
        self.ex(
            f"CREATE TEMPORARY TABLE {ARES} AS SELECT r.row_no, r.npi, {select}, "
            f"{account_type} AS account_type, a.account_id AS target_id, "
            f"(a.account_id IS NOT NULL AND {changed}) AS changed FROM {RAW} r "
            f"LEFT JOIN {a} a ON a.account_id = r.npi {self.zip_joins('r.zip')} "
            "WHERE r.entity = 2"
        )
        n = self.counts(ARES, created="target_id IS NULL", updated="changed")
        created, updated = n["created"], n["updated"]
        self.out.created += created
        self.out.updated += updated
        names = list(values)
        if updated:
            sets = ", ".join(f"{n} = {ARES}.{n}" for n in names)
            self.ex(
                f"UPDATE {a} SET {sets}, updated_at = %s FROM {ARES} "
                f"WHERE {a}.account_id = {ARES}.target_id AND {ARES}.changed",
                [self.now],
            )
        if created:
            self.ex(
                f"INSERT INTO {a} (account_id, {', '.join(names)}, account_type, "
                f"formulary_status, updated_at) SELECT npi, {', '.join(names)}, account_type, "
                f"'', %s FROM {ARES} WHERE target_id IS NULL ORDER BY npi",
                [self.now],
            )
        if not updated:
            return
        # Account fields feed rules through ``account.`` paths.
        self.collect(
            f"SELECT c.id FROM {c} c JOIN {ARES} r ON c.account_id = r.target_id WHERE r.changed"
        )

    def deactivations(self) -> None:
        """Rows NPPES emptied but for the deactivation: the customer or account goes inactive."""
        c, a = Table(Customer), Table(Account)
        rows = self.scalar(f"SELECT COUNT(*) FROM {RAW} WHERE entity = 0")
        if not rows:
            return
        known_c = f"SELECT 1 FROM {c} c WHERE c.npi = r.npi"
        known_a = f"SELECT 1 FROM {a} a WHERE a.account_id = r.npi"
        unknown = self.scalar(
            f"SELECT COUNT(*) FROM {RAW} r WHERE r.entity = 0 "
            f"AND NOT EXISTS ({known_c}) AND NOT EXISTS ({known_a})"
        )
        self.out.skip("deactivated NPI not in the database", unknown)
        customers = self.collect(
            f"SELECT c.id FROM {c} c JOIN {RAW} r ON c.npi = r.npi "
            f"WHERE r.entity = 0 AND (c.active OR "
            f"{self.sql.differs('c.deactivated_on', 'r.deactivated_on')})"
        )
        accounts = self.scalar(
            f"SELECT COUNT(*) FROM {a} a JOIN {RAW} r ON a.account_id = r.npi "
            f"WHERE r.entity = 0 AND (a.active OR "
            f"{self.sql.differs('a.deactivated_on', 'r.deactivated_on')})"
        )
        self.out.updated += customers + accounts
        for table, key in ((c, "npi"), (a, "account_id")):
            stale = self.sql.differs(f"{table}.deactivated_on", "r.deactivated_on")
            self.ex(
                f"UPDATE {table} SET active = {self.false()}, deactivated_on = r.deactivated_on, "
                f"updated_at = %s FROM {RAW} r WHERE {table}.{key} = r.npi AND r.entity = 0 "
                f"AND ({table}.active OR {stale})",
                [self.now],
            )
        if accounts:
            self.collect(
                f"SELECT c.id FROM {c} c JOIN {RAW} r ON c.account_id = r.npi WHERE r.entity = 0"
            )


class PartdWriter(SourceWriter):
    """Part D rows -> yearly rx facts (metric trx) of tracked brands, per prescriber."""

    staged = [("row_no", INT), ("npi", TEXT), ("brand", TEXT), ("trx", INT)]

    def write(self) -> None:
        self.errors.raise_if_any()
        c, x = Table(Customer), Table(RxAnnualFact)
        year = self.options["data_year"]
        # No index on the staged rows: every statement below reads them all
        # (hash joins), and sorting 25 million NPIs for an index costs minutes.
        self.ex(f"DROP TABLE IF EXISTS {PRODUCTS}")
        self.ex(f"CREATE TEMPORARY TABLE {PRODUCTS} (brand text PRIMARY KEY, product text)")
        spelling: dict[str, str] = {}
        for product in tracked_products():
            spelling.setdefault(product.upper(), product)
        if spelling:
            self.cursor.executemany(
                f"INSERT INTO {PRODUCTS} (brand, product) VALUES (%s, %s)", list(spelling.items())
            )
        self.analyze(RAW)
        out = self.out
        out.skip(
            "brand not tracked",
            self.scalar(
                f"SELECT COUNT(*) FROM {RAW} r WHERE NOT EXISTS "
                f"(SELECT 1 FROM {PRODUCTS} p WHERE p.brand = r.brand)"
            ),
        )
        out.skip(
            "prescriber not a customer",
            self.scalar(
                f"SELECT COUNT(*) FROM {RAW} r JOIN {PRODUCTS} p ON p.brand = r.brand "
                f"WHERE NOT EXISTS (SELECT 1 FROM {c} c WHERE c.npi = r.npi)"
            ),
        )
        # One fact per prescriber and product: rows of several generic names of
        # one brand add up; a fact whose every row was suppressed stays missing.
        self.ex(
            f"CREATE TEMPORARY TABLE {RES} AS SELECT g.*, x.id AS target_id, "
            f"(x.id IS NOT NULL AND {self.sql.differs('x.trx', 'g.trx')}) AS changed FROM "
            f"(SELECT c.id AS customer_id, p.product, SUM(r.trx) AS trx, COUNT(*) AS n "
            f"FROM {RAW} r JOIN {PRODUCTS} p ON p.brand = r.brand JOIN {c} c ON c.npi = r.npi "
            f"GROUP BY c.id, p.product) g LEFT JOIN {x} x ON x.customer_id = g.customer_id "
            f"AND x.year = %s AND x.product = g.product",
            [year],
        )
        self.analyze(RES)
        merged = self.scalar(f"SELECT COALESCE(SUM(n - 1), 0) FROM {RES}")
        out.note("rows added to another row's fact (same prescriber and brand)", merged)
        n = self.counts(RES, created="target_id IS NULL", updated="changed")
        created, updated = n["created"], n["updated"]
        out.created += created
        out.updated += updated
        self.merged = merged
        if updated:
            self.ex(
                f"UPDATE {x} SET trx = {RES}.trx FROM {RES} "
                f"WHERE {x}.id = {RES}.target_id AND {RES}.changed"
            )
        if created:
            self.ex(
                f"INSERT INTO {x} (customer_id, year, product, trx, source) "
                f"SELECT customer_id, %s, product, trx, 'partd' FROM {RES} "
                f"WHERE target_id IS NULL ORDER BY customer_id, product",
                [year],
            )
        self.collect(f"SELECT customer_id FROM {RES} WHERE target_id IS NULL OR changed")


class TaxonomyWriter(SourceWriter):
    """NUCC rows -> TaxonomyCode (with the specialty each maps to); customers re-mapped."""

    staged = [
        ("row_no", INT),
        ("code", TEXT),
        ("grouping", TEXT),
        ("classification", TEXT),
        ("specialization", TEXT),
        ("display_name", TEXT),
        ("specialty", TEXT),
    ]
    key = ["code"]
    key_column = "Code"

    def write(self) -> None:
        self.duplicates()
        self.errors.raise_if_any()
        self.load_mapping()
        t, c = Table(TaxonomyCode), Table(Customer)
        values = {
            "grouping": "r.grouping",
            "classification": "r.classification",
            "specialization": "r.specialization",
            "display_name": "r.display_name",
            # The file's own ``specialty`` cell, else an earlier edit, else the shipped default.
            "specialty": "COALESCE(NULLIF(r.specialty, ''), t.specialty, m.specialty, 'other')",
        }
        select, changed = self.resolved(values, "t")
        self.ex(
            f"CREATE TEMPORARY TABLE {RES} AS SELECT r.row_no, r.code, {select}, "
            f"(r.specialty = '' AND t.code IS NULL AND m.code IS NULL) AS unmapped, "
            f"t.code AS target_id, (t.code IS NOT NULL AND {changed}) AS changed "
            f"FROM {RAW} r LEFT JOIN {t} t ON t.code = r.code LEFT JOIN {MAP} m ON m.code = r.code"
        )
        out = self.out
        out.created += self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE target_id IS NULL")
        out.updated += self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE changed")
        out.note(
            "unmapped codes (imported as other)",
            self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE unmapped"),
        )
        names = list(values)
        self.ex(
            f"UPDATE {t} SET {', '.join(f'{n} = {RES}.{n}' for n in names)}, updated_at = %s "
            f"FROM {RES} WHERE {t}.code = {RES}.target_id AND {RES}.changed",
            [self.now],
        )
        self.ex(
            f"INSERT INTO {t} (code, {', '.join(names)}, updated_at) SELECT code, "
            f"{', '.join(names)}, %s FROM {RES} WHERE target_id IS NULL ORDER BY code",
            [self.now],
        )
        # Customers whose primary taxonomy now maps to another specialty follow it.
        remapped = self.collect(
            f"SELECT c.id FROM {c} c JOIN {t} t ON t.code = c.taxonomy_code "
            f"WHERE c.taxonomy_code <> '' AND c.specialty <> t.specialty"
        )
        if remapped:
            self.ex(
                f"UPDATE {c} SET specialty = (SELECT t.specialty FROM {t} t "
                f"WHERE t.code = {c}.taxonomy_code), updated_at = %s "
                f"WHERE taxonomy_code <> '' AND EXISTS (SELECT 1 FROM {t} t "
                f"WHERE t.code = {c}.taxonomy_code AND t.specialty <> {c}.specialty)",
                [self.now],
            )
        out.note("customers whose specialty follows a changed mapping", remapped)


class AlignmentWriter(SourceWriter):
    """The alignment file replaces ``ZipAlignment``; customers and accounts then move."""

    staged = [("row_no", INT), ("zip", TEXT), ("territory", TEXT), ("territory_name", TEXT)]
    key = ["zip"]
    key_column = "zip"

    def write(self) -> None:
        self.duplicates()
        self.errors.raise_if_any()
        z, terr = Table(ZipAlignment), Table(Territory)
        out = self.out
        self.ex(
            f"INSERT INTO {terr} (code, name, created_at) SELECT territory, "
            f"MAX(territory_name), %s FROM {RAW} r WHERE NOT EXISTS "
            f"(SELECT 1 FROM {terr} t WHERE t.code = r.territory) GROUP BY territory",
            [self.now],
        )
        self.ex(
            f"CREATE TEMPORARY TABLE {RES} AS SELECT r.zip, r.territory, z.zip AS target_id, "
            f"(z.zip IS NOT NULL AND z.territory_id <> r.territory) AS changed "
            f"FROM {RAW} r LEFT JOIN {z} z ON z.zip = r.zip"
        )
        out.created += self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE target_id IS NULL")
        out.updated += self.scalar(f"SELECT COUNT(*) FROM {RES} WHERE changed")
        removed = self.scalar(
            f"SELECT COUNT(*) FROM {z} z "
            f"WHERE NOT EXISTS (SELECT 1 FROM {RAW} r WHERE r.zip = z.zip)"
        )
        out.note("alignment rows removed (not in the file)", removed)
        self.ex(f"DELETE FROM {z} WHERE NOT EXISTS (SELECT 1 FROM {RAW} r WHERE r.zip = {z}.zip)")
        self.ex(
            f"UPDATE {z} SET territory_id = {RES}.territory FROM {RES} "
            f"WHERE {z}.zip = {RES}.target_id AND {RES}.changed"
        )
        self.ex(
            f"INSERT INTO {z} (zip, territory_id) SELECT zip, territory FROM {RES} "
            "WHERE target_id IS NULL ORDER BY zip"
        )
        realign(self, out)


def realign(writer: SourceWriter, out: SourceOutcome) -> None:
    """Move every customer and account whose zip the alignment places in another
    territory; return the customers that moved or whose account did."""
    c, a = Table(Customer), Table(Account)
    aligned = "COALESCE(z5.territory_id, z3.territory_id)"
    for table, key, label in ((c, "id", "customers"), (a, "account_id", "accounts")):
        writer.ex(f"DROP TABLE IF EXISTS {MOVED}")
        writer.ex(
            f"CREATE TEMPORARY TABLE {MOVED} AS SELECT x.{key} AS key, "
            f"{aligned} AS territory FROM {table} x "
            f"{writer.zip_joins('x.zip')} WHERE x.zip <> '' "
            f"AND {aligned} IS NOT NULL AND {writer.sql.differs('x.territory_id', aligned)}"
        )
        moved = writer.scalar(f"SELECT COUNT(*) FROM {MOVED}")
        out.note(f"{label} moved to another territory", moved)
        out.note(
            f"{label} whose zip no alignment row covers",
            writer.scalar(
                f"SELECT COUNT(*) FROM {table} x {writer.zip_joins('x.zip')} "
                "WHERE z5.zip IS NULL AND z3.zip IS NULL"
            ),
        )
        if not moved:
            continue
        if table is c:
            writer.collect(f"SELECT key FROM {MOVED}")
        else:
            writer.collect(f"SELECT c.id FROM {c} c JOIN {MOVED} m ON c.account_id = m.key")
        writer.ex(
            f"UPDATE {table} SET territory_id = {MOVED}.territory, updated_at = %s "
            f"FROM {MOVED} WHERE {table}.{key} = {MOVED}.key",
            [writer.now],
        )


WRITERS: dict[str, type[SourceWriter]] = {
    "nppes": NppesWriter,
    "partd": PartdWriter,
    "taxonomy": TaxonomyWriter,
    "alignment": AlignmentWriter,
}


def run_source(
    *,
    kind: str,
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    now: dt.datetime,
    options: dict[str, Any] | None = None,
) -> SourceOutcome:
    """Validate and write one published file; raise ValidationFailed listing every problem.

    Must run inside a transaction (the caller's), which the raise rolls back.
    """
    options = check_options(kind, options)
    positions = read_header(kind, header)
    errors = Errors(file_path, lambda row: f"row {row}")
    out = SourceOutcome()
    writer = WRITERS[kind](
        header=header, positions=positions, errors=errors, now=now, options=options, out=out
    )
    try:
        if writer.sql.pg:
            writer.ex("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])
        writer.drop()
        writer.ex(f"DROP TABLE IF EXISTS {CHANGED_IDS}")
        writer.ex(f"CREATE TEMPORARY TABLE {CHANGED_IDS} (id bigint)")
        out.changed_pages = changed_pages
        stage = Stage(writer.sql, writer.cursor, RAW, writer.staged, stream=True)
        start = time.perf_counter()
        try:
            for item in PARSERS[kind](rows, Rows(header, positions, errors), out):
                stage.add(item)
            stage.flush()
        except BaseException as exc:
            stage.close(exc)  # the COPY must end before the rollback
            raise
        logger.debug(
            "%s: %s rows read and staged in %.1f s", kind, out.rows, time.perf_counter() - start
        )
        errors.raise_if_any()
        writer.write()
        errors.raise_if_any()
        merged = getattr(writer, "merged", 0)
        out.unchanged = max(out.rows - out.created - out.updated - out.skipped - merged, 0)
        writer.drop()
    finally:
        writer.cursor.close()
    return out


def changed_pages(size: int = 20_000) -> Iterator[list[int]]:
    """The changed customers' ids, in pages of ``size`` (keyset order), then the
    table is dropped; call inside the import's transaction (docs/sources.md)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX {CHANGED_IDS}_id ON {CHANGED_IDS} (id)")
        if connection.vendor == "postgresql":
            # Without statistics the planner sorts every remaining id for each page
            # (10 s a page at 9 million ids); with them it walks the index.
            cursor.execute(f"ANALYZE {CHANGED_IDS}")
        last = -1
        while True:
            cursor.execute(
                f"SELECT DISTINCT id FROM {CHANGED_IDS} WHERE id > %s ORDER BY id LIMIT {size}",
                [last],
            )
            page = [row[0] for row in cursor.fetchall()]
            if not page:
                break
            yield page
            last = page[-1]
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED_IDS}")
