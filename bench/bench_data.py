"""The recompute bench's synthetic data: accounts, customers, attributes, interactions, rx facts.

Written with ``generate_series`` on PostgreSQL (NPIs start with 2 and carry
valid check digits; names say "Bench"). Imported by bench_recompute.py and
bench_discovery.py after ``django.setup()``; run alone it prepares a bench
database (bench/README.md, "Bench data"):

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench \\
        .venv/bin/python bench/bench_data.py --customers 1000000 --interactions 20000000 --check

Into empty fact tables the load is a bulk load, in one transaction: the
indexes, unique and foreign-key constraints of the customers (when there are
none yet), attributes, interactions and rx facts are dropped (primary keys too
when no foreign key refers to them), the summary triggers (InteractionRecency,
RxYear) disabled, the rows inserted in one statement each, then the indexes
built, the constraints added back (each foreign key checked by one join), the
triggers enabled, and each summary written by one statement
(``recency_backfill``, ``rx_year_backfill``) into its table without indexes,
built after. ``--check`` (``check_summaries``) then proves the summaries are
what the triggers would have written: it deletes every fact and inserts it again
through the triggers, compares, and rolls back.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate the recompute bench's data set.")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--rx-share", type=float, default=0.2, help="share with rx facts")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the database and its data if it has them"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare the summaries with the triggers' (slow)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.database import prepare

    ARGS = _arguments()
    prepare(keep=ARGS.keep)

from django.db import connection, transaction  # noqa: E402

from bench.recompute_segments import PREFIX, PRODUCTS  # noqa: E402
from customers.models import (  # noqa: E402
    Customer,
    CustomerAttribute,
    Interaction,
    InteractionRecency,
    RxFact,
    RxYear,
)
from segmentation import services  # noqa: E402
from segmentation.models import (  # noqa: E402
    AccountMembershipSpell,
    MembershipSpell,
    RecomputeRun,
    Segment,
    SegmentVersion,
)

SPECIALTIES = (
    "cardiology oncology hematology endocrinology neurology rheumatology nephrology "
    "pulmonology gastroenterology dermatology psychiatry infectious_disease internal_medicine "
    "family_medicine pediatrics obstetrics_gynecology pharmacy nurse_practitioner other"
).split()
STATES = ("CA", "NY", "TX", "FL", "WA", "OR", "NV", "AZ", "IL", "MA", "")
CHANNELS = "rep_visit remote_detail email webinar congress speaker_program portal phone".split()
KINDS = "sent opened clicked attended registered downloaded visited requested_info called".split()
TOPICS = (
    "mechanism_of_action efficacy safety dosing patient_selection access patient_support "
    "disease_education"
).split() + [""]
ACCOUNT_TYPES = (
    "health_system hospital academic_center clinic community_practice infusion_center "
    "specialty_pharmacy retail_pharmacy payer gpo"
).split()


def sql_array(values) -> str:
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def pick(values, seed_expr: str) -> str:
    """SQL picking one of ``values`` pseudo-randomly from an integer expression."""
    return f"({sql_array(values)})[1 + mod({seed_expr}, {len(values)})]"


def execute(sql: str, params=None) -> float:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return time.perf_counter() - t0


def _secondary(table: str) -> tuple[list[str], list[str]]:
    """(drop, create) statements of ``table``'s indexes and constraints but its check
    constraints, and its primary key when a foreign key refers to the table, in an
    order that recreates them (indexes, then constraints)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND (contype IN ('u', 'f', 'x') OR contype = 'p' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.confrelid = %s::regclass)) "
            "ORDER BY contype DESC",
            [table, table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisprimary AND indexrelid NOT IN "
            "(SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
        indexes = cursor.fetchall()
    drop = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _ in constraints]
    drop += [f'DROP INDEX "{name}"' for name, _ in indexes]
    create = [definition for _, definition in indexes]
    create += [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in constraints]
    return drop, create


@contextmanager
def bulk_load(models: list) -> Iterator[None]:
    """Inside a transaction: ``models``' tables without indexes (but a primary key
    that a foreign key needs), constraints (but checks) and user triggers while the
    block loads them; everything back after it."""
    tables = [m._meta.db_table for m in models]
    plans = {t: _secondary(t) for t in tables}
    execute("SET LOCAL maintenance_work_mem = '2GB'")
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks may remain for an ALTER
    for table in tables:
        for statement in plans[table][0]:
            execute(statement)
        execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    yield
    for table in tables:
        t = 0.0
        for statement in plans[table][1]:
            t += execute(statement)
        execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        print(f"  indexes and constraints of {table}: {t:.1f} s", flush=True)


def _migration(name: str):
    return importlib.import_module(f"customers.migrations.{name}")


# Facet numbers in (customer, facet) keys: customer ids stay below this.
_FACET_STEP = 2**40


def recency_backfill() -> str:
    """InteractionRecency from every interaction in one statement, rows in (facet,
    customer) order as the migration writes them (its backfill, 0009, sorts 3 rows
    per interaction on a text key, then groups and sorts again: half an hour at 20M).

    Each facet gets a number in the order of its name (the distinct channels and
    topics read by skipping through their indexes), and every (facet, customer)
    one integer key, ``number * 2**40 + customer``: the only sort is then one of
    two integers (the key, latest time first), and its order is the table's. Per key,
    the latest time and the 4 after it (``lead``) are the KEPT latest, as the
    triggers keep them."""
    recency = _migration("0009_interaction_recency")
    i, kept = recency.INTERACTION, recency.KEPT

    def distinct(column: str, where: str) -> str:  # skip scan: one index probe per value
        return (
            f"SELECT min({column}) FROM {i} WHERE {where} UNION ALL SELECT "
            f"(SELECT min({column}) FROM {i} n WHERE n.{column} > d.{column}) "
            f"FROM d_{column} d WHERE d.{column} IS NOT NULL"
        )

    def facet_rows(column: str) -> str:
        return (
            f"SELECT f.k * {_FACET_STEP} + i.customer_id, i.occurred_at "
            f"FROM {i} i JOIN facets f ON f.{column} = i.{column}"
        )

    leads = ", ".join(f"lead(occurred_at, {n}) OVER w AS l{n + 1}" for n in range(1, kept))
    return f"""INSERT INTO {recency.RECENCY} ({recency.COLUMNS})
WITH RECURSIVE d_channel(channel) AS ({distinct("channel", "TRUE")}),
d_topic(topic) AS ({distinct("topic", "topic <> ''")}),
facets(k, facet, channel, topic) AS MATERIALIZED (
    SELECT 1::bigint, '', NULL, NULL
    UNION ALL SELECT 1 + row_number() OVER (ORDER BY channel COLLATE "C"),
        'channel:' || channel, channel, NULL FROM d_channel WHERE channel IS NOT NULL
    UNION ALL SELECT 1 + (SELECT count(channel) FROM d_channel)
        + row_number() OVER (ORDER BY topic COLLATE "C"), 'topic:' || topic, NULL, topic
        FROM d_topic WHERE topic IS NOT NULL
)
SELECT key % {_FACET_STEP}, (SELECT array_agg(facet ORDER BY k) FROM facets)[key / {_FACET_STEP}],
    occurred_at, {", ".join(f"l{n}" for n in range(2, kept + 1))}
FROM (
    SELECT key, occurred_at, row_number() OVER w AS rn, {leads}
    FROM (
        SELECT {_FACET_STEP} + customer_id AS key, occurred_at FROM {i}
        UNION ALL {facet_rows("channel")}
        UNION ALL {facet_rows("topic")}
    ) f
    WINDOW w AS (PARTITION BY key ORDER BY occurred_at DESC)
) r
WHERE rn = 1 ORDER BY key"""


def rx_year_backfill(*, upsert: bool) -> str:
    """RxYear from every rx fact in one statement, rows in (product, year, customer)
    order as the migration writes them: each product's sums grouped from the facts
    once, and every product's ("") summed from those (the migration's backfill, 0010,
    groups every fact twice). ``upsert``: RxYear may hold yearly sums (RxAnnualFact)
    for these keys already; only the month columns are written then."""
    rx = _migration("0010_rx_year")
    sums = ", ".join(
        f"SUM(CASE WHEN m = {n} THEN {m} ELSE 0 END) AS {m}_{n}"
        for m in rx.METRICS
        for n in rx.MONTHS
    )
    every = ", ".join(f"CAST(SUM({c}) AS bigint)" for c in rx.SUMS)
    columns = f"{rx.KEY}, {', '.join(rx.SUMS)}"
    conflict = (
        " ON CONFLICT (product, year, customer_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in rx.SUMS)
        if upsert
        else ""
    )
    return f"""INSERT INTO {rx.YEAR} ({columns})
WITH products AS MATERIALIZED (
    SELECT customer_id, product, year, {sums} FROM (
        SELECT customer_id, product, {", ".join(rx.METRICS)},
            CAST(date_part('year', month) AS integer) AS year,
            CAST(date_part('month', month) AS integer) AS m
        FROM {rx.FACT} OFFSET 0  -- each fact's month once, not once per sum
    ) f GROUP BY 1, 2, 3
)
SELECT {columns} FROM (
    SELECT {columns} FROM products
    UNION ALL SELECT customer_id, '', year, {every} FROM products GROUP BY customer_id, year
) d
ORDER BY product COLLATE "C", year, customer_id{conflict}"""


def backfill_summaries(*, rx_year_empty: bool = True) -> None:
    """InteractionRecency and RxYear's monthly sums from every fact, into summaries that
    hold nothing of them yet (``recency_backfill``, ``rx_year_backfill``)."""
    execute("SET LOCAL work_mem = '2GB'")  # their sorts and groups, in memory where they fit
    t = execute(recency_backfill())
    print(f"  InteractionRecency {t:7.1f} s")
    t = execute(rx_year_backfill(upsert=not rx_year_empty))
    print(f"  RxYear             {t:7.1f} s", flush=True)


def _insert_interactions(interactions: int, lo: int, hi: int, as_of: datetime) -> float:
    return execute(
        "INSERT INTO customers_interaction (customer_id, occurred_at, channel, kind, topic, "
        "asset, external_id, created_at) "
        "SELECT %s + floor(random() * (%s - %s + 1))::bigint, "
        "%s - random() * interval '400 days', "
        f"{pick(CHANNELS, 'g')}, {pick(KINDS, 'g / 8')}, {pick(TOPICS, 'g / 3')}, '', NULL, "
        "now() FROM generate_series(1::bigint, %s::bigint) g",
        [lo, hi, lo, as_of, interactions],
    )


def _insert_rx(first_id: int, rx_share: float, as_of: datetime) -> float:
    month0 = as_of.date().replace(day=1)
    return execute(
        "INSERT INTO customers_rxfact (customer_id, month, product, nrx, trx, new_patient_starts) "
        "SELECT c.id, (date_trunc('month', %s::date) - m * interval '1 month')::date, p, "
        "mod(c.id * 7 + m, 9), mod(c.id * 13 + m * 3, 25), mod(c.id + m, 4) "
        "FROM customers_customer c, generate_series(0, 11) m, unnest(%s::text[]) p "
        "WHERE c.id >= %s AND mod(c.id * 2654435761, 1000) < %s",
        [month0, list(PRODUCTS), first_id, int(rx_share * 1000)],
    )


def generate(customers: int, interactions: int, rx_share: float, as_of: datetime) -> None:
    """Synthetic data with generate_series: accounts, customers, attributes, interactions, rx.

    Adds ``customers`` customers after the bench customers already there; rx facts
    for the new ones, interactions for any. A bulk load (the module's docstring)
    when there are no interactions nor rx facts yet; otherwise through the triggers.
    """
    t_start = time.perf_counter()
    before = Customer.objects.count()
    bulk = not Interaction.objects.exists() and not RxFact.objects.exists()
    accounts = max(1, customers // 20)
    print(
        f"generating {customers:,} customers, {interactions:,} interactions"
        f"{' (bulk load)' if bulk else ' (through the triggers)'} ...",
        flush=True,
    )
    with transaction.atomic():
        _customers(accounts, customers, before)
        first_id = _first_new_customer(before)
        lo = Customer.objects.order_by("id").values_list("id", flat=True)[:1].get()
        hi = Customer.objects.order_by("-id").values_list("id", flat=True)[:1].get()
        assert hi < _FACET_STEP, "customer ids must stay below recency_backfill's step"
        with bulk_load([CustomerAttribute, Interaction, RxFact]) if bulk else _nothing():
            t = execute(
                "INSERT INTO customers_customerattribute (customer_id, key, value, number) "
                "SELECT id, 'adoption_stage', "
                f"{pick(['early', 'mid', 'late'], 'id * 31')}, NULL "
                "FROM customers_customer WHERE id >= %s AND mod(id, 2) = 0",
                [first_id],
            )
            print(f"  attributes   {t:7.1f} s")
            print(f"  interactions {_insert_interactions(interactions, lo, hi, as_of):7.1f} s")
            print(f"  rx facts     {_insert_rx(first_id, rx_share, as_of):7.1f} s", flush=True)
        if bulk:
            # Into summaries without their unique indexes, built after (in key order).
            empty = [m for m in (InteractionRecency, RxYear) if not m.objects.exists()]
            with bulk_load(empty):
                backfill_summaries(rx_year_empty=RxYear in empty)
    # VACUUM too where it can run (PostgreSQL, outside a transaction: not in a test):
    # the visibility map of a table no vacuum has visited is empty, so every
    # index-only scan of it reads the table's pages as well. Left to autovacuum, the
    # 20M interactions were vacuumed 75 s into the first round of bench_recompute.py
    # (7 December 2026), so that round measured another database.
    can_vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    vacuum = "VACUUM (ANALYZE)" if can_vacuum else "ANALYZE"
    t = execute(vacuum)
    print(f"  {vacuum.lower():12} {t:7.1f} s")
    print(f"  total        {time.perf_counter() - t_start:7.1f} s", flush=True)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _first_new_customer(before: int) -> int:
    """The id of the first customer this generation added (ids grow)."""
    ids = Customer.objects.order_by("id").values_list("id", flat=True)
    return ids[before : before + 1].get()


def _customers(accounts: int, customers: int, before: int) -> None:
    """Accounts and customers numbered after the ``before`` bench customers already there."""
    t = execute(
        "INSERT INTO customers_account (account_id, name, account_type, state, zip, bed_count, "
        "formulary_status, updated_at) "
        f"SELECT 'BA' || g, 'Bench account ' || g, {pick(ACCOUNT_TYPES, 'g * 7')}, "
        f"{pick(STATES[:-1], 'g * 3')}, '', mod(g * 37, 900), '', now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [accounts],
    )
    print(f"  accounts     {t:7.1f} s")

    # Valid NPIs: '2', the number in 8 digits, and the Luhn check digit over
    # '80840' + those nine digits, so that the incremental step can record
    # interactions through the service's validation. From the right, the
    # 1st, 3rd, 5th and 7th digits of the number are doubled (a doubled digit
    # over 9 loses 9), then '2' (doubled: 4) and '80840' (8 + 0 + 8 + 8 + 0);
    # plain SQL, which the insert computes inline.
    def digit(k: int) -> str:  # the k-th digit of g from the right, 0 first
        return f"mod(g / {10**k}, 10)"

    doubled = " + ".join(f"(2 * {digit(k)} - 9 * ({digit(k)} / 5))" for k in (0, 2, 4, 6))
    plain = " + ".join(digit(k) for k in (1, 3, 5, 7))
    npi = f"'2' || lpad(g::text, 8, '0') || mod(10 - mod(28 + {doubled} + {plain}, 10), 10)::text"
    # Into an empty table: indexes built after, as for the facts.
    with bulk_load([Customer]) if before == 0 else _nothing():
        t = execute(
            "INSERT INTO customers_customer (npi, first_name, last_name, credential, specialty, "
            "role, practice_setting, account_id, state, zip, decile, email_opt_out, created_at, "
            "updated_at) "
            f"SELECT {npi}, 'Bench', 'Customer ' || g, "
            f"{pick(['MD', 'DO', 'NP', 'PA', 'PharmD', 'RN', ''], 'g * 13')}, "
            f"{pick(SPECIALTIES, 'mod(g * 2654435761, 1000003)')}, "
            f"{pick(['prescriber', 'prescriber', 'pharmacist', 'nurse', ''], 'g * 11')}, '', "
            "CASE WHEN mod(g, 4) = 0 THEN NULL ELSE 'BA' || (1 + mod(g * 7919, %s)) END, "
            f"{pick(STATES, 'mod(g * 48271, 2147483647)')}, '', "
            "CASE WHEN mod(g, 10) = 0 THEN NULL ELSE 1 + mod(g * 69069, 10) END, mod(g, 17) = 0, "
            "now(), now() "
            "FROM generate_series(%s::bigint, %s::bigint) g",
            [accounts, before + 1, before + customers],
        )
    print(f"  customers    {t:7.1f} s", flush=True)


@contextmanager
def summaries_off() -> Iterator[None]:
    """Imports inside leave the summaries' upkeep out, to measure its share: the insert
    triggers step aside for every statement and the import writes no summaries. Run
    inside a transaction that is rolled back, or on a bench database only: the
    summaries are wrong afterwards."""
    from customers import summaries
    from customers.importing import writers

    saved = {w: w.add_summaries for w in (writers.InteractionWriter, writers.RxWriter)}
    execute("SELECT set_config(%s, %s, false)", [summaries.SETTING, summaries.BY_IMPORT])
    for writer in saved:
        writer.add_summaries = lambda self, cursor, source: None
    try:
        yield
    finally:
        for writer, method in saved.items():
            writer.add_summaries = method
        execute("SELECT set_config(%s, '', false)", [summaries.SETTING])


# -- The check: the summaries are what the triggers write ---------------------------

_COMPARED = {
    "customers_interactionrecency": ("customers_interaction", "customer_id, facet"),
    "customers_rxyear": ("customers_rxfact", "customer_id, product, year"),
}


def check_summaries() -> dict[str, tuple[int, int]]:
    """Rewrite every interaction and rx fact through the triggers and compare the
    summaries with the ones stored; rolled back. Per summary table: (rows stored,
    rows that differ in either direction). Rows of zeros in RxYear mean no row."""
    differences: dict[str, tuple[int, int]] = {}
    with transaction.atomic():
        for summary, (facts, _) in _COMPARED.items():
            columns = _columns(summary)
            execute(f"CREATE TEMP TABLE stored_{facts} AS SELECT {columns} FROM {summary}")
            execute(f"CREATE TEMP TABLE copy_{facts} AS SELECT * FROM {facts}")
            execute(f"DELETE FROM {facts}")  # the delete triggers take the sums out
            execute(f"INSERT INTO {facts} SELECT * FROM copy_{facts}")  # and back in
            nonzero = "" if summary.endswith("recency") else _nonzero(summary)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT (SELECT count(*) FROM stored_{facts}), count(*) FROM ("
                    f"(SELECT {columns} FROM {summary} {nonzero} "
                    f"EXCEPT ALL SELECT {columns} FROM stored_{facts} {nonzero}) UNION ALL "
                    f"(SELECT {columns} FROM stored_{facts} {nonzero} "
                    f"EXCEPT ALL SELECT {columns} FROM {summary} {nonzero})) d"
                )
                differences[summary] = cursor.fetchone()
        transaction.set_rollback(True)
    return differences


def _columns(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'",
            [table],
        )
        return cursor.fetchone()[0]


def _nonzero(table: str) -> str:
    sums = [c for c in _columns(table).split(", ") if c not in ("customer_id", "product", "year")]
    return "WHERE " + " OR ".join(f"{c} <> 0" for c in sums)


def setup_segments(user, defs: list[dict], prefix: str = PREFIX) -> list[SegmentVersion]:
    """(Re)create the bench segments (keys starting with ``prefix``), active, with empty
    membership. A definition's ``unit`` (default customer) and ``rollup`` are its segment's."""
    with transaction.atomic():
        old = SegmentVersion.objects.filter(segment__key__startswith=prefix)
        for spell in (MembershipSpell, AccountMembershipSpell):
            spell.objects.filter(version__in=old)._raw_delete(connection.alias)
        RecomputeRun.objects.filter(version__in=old).delete()
        # Children first: parents are PROTECTed.
        for seg in Segment.objects.filter(key__startswith=prefix).order_by("-id"):
            seg.delete()
    versions = []
    for d in defs:
        seg = services.segment_create(
            user=user,
            key=d["key"],
            name=d["key"],
            purpose="promotional",
            entry_rule=d["entry"],
            exit_rule=d.get("exit"),
            parent=d.get("parent"),
            unit=d.get("unit", "customer"),
            rollup=d.get("rollup"),
        )
        version = seg.versions.get()
        SegmentVersion.objects.filter(pk=version.pk).update(state="active")
        versions.append(version)
    return versions


def mismatches(engine: dict, counts: dict, differ: dict) -> dict:
    """Segments whose engine and floor member sets differ, with (engine count, floor count,
    members in one set only): the sets, not only their sizes, are compared."""
    return {
        k: (engine[k], counts[k], differ[k]) for k in counts if engine[k] != counts[k] or differ[k]
    }


def draft_copies(versions: dict[str, int], as_of) -> tuple[dict[str, int], dict[str, int]]:
    """For a floor with writes: a draft copy of each version (by key) and a run of it, so
    that the floor's spells go to a version without members, as a first recompute's do.
    Returns (copy's id, run's id) by key; call inside a transaction that is rolled back."""
    copies, runs = {}, {}
    for version in SegmentVersion.objects.filter(pk__in=versions.values()).select_related(
        "segment"
    ):
        key = version.segment.key
        version.pk, version.number, version.state = None, version.number + 1000, "draft"
        version.save()
        copies[key] = version.pk
        runs[key] = RecomputeRun.objects.create(
            version_id=version.pk, as_of=as_of, started_at=as_of, trigger="manual"
        ).pk
    return copies, runs


def main(args: argparse.Namespace) -> None:
    have = Customer.objects.count()
    if have >= args.customers:
        print(f"{have:,} customers there: nothing generated (--keep)")
    else:
        generate(args.customers - have, args.interactions, args.rx_share, datetime.now(UTC))
    if args.check:
        t0 = time.perf_counter()
        differences = check_summaries()
        for table, (rows, differ) in differences.items():
            verdict = "equal" if not differ else f"{differ:,} rows DIFFER"
            print(f"check {table}: {rows:,} rows, {verdict} to the triggers'")
        print(f"check took {time.perf_counter() - t0:.1f} s")
        if any(differ for _, differ in differences.values()):
            sys.exit(1)


if __name__ == "__main__":
    main(ARGS)
