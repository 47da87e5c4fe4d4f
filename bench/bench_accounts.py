"""Account-segment benchmark (run by hand, on PostgreSQL). Prints figures; changes only its own
database, which it drops at the end (``--keep`` keeps it).

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench_accounts \\
        .venv/bin/python bench/bench_accounts.py --customers 1000000 --accounts 100000

The database is the bench's own (bench/database.py): created again each run
(``--keep`` reuses it and its data, and leaves it in place at the end).

Data, loaded by ``COPY`` in one transaction (the customers' secondary indexes
and constraints dropped while they load and built after, ``bench_data.bulk_load``):
``--accounts`` accounts, 2% health systems at the top of a parent hierarchy
(about 55% of the other accounts belong to a health system, 20% sit below
one of those, three levels deep), 10% payers with coverage rows for five
products (an older row, for half of them a newer one, for a tenth a row
dated after ``as_of`` that no rule may read); ``--customers`` customers with
valid NPIs, 80% affiliated with an account that is not a payer; a referral
period with the influence scores of 30% of the customers (synthetic values:
the networkx scoring of an import is ``bench_influence.py``'s).

Measures (bench/README.md, "Accounts", has the figures and the command)
  (a) a full recompute of six segments through ``services.recompute_segment_keys``
      (dependency order), from empty, then again with unchanged data: a health
      system with at least 5 cardiologists in decile 8+ below it (``members``
      ``count`` over a nested customer rule, ``rollup: hierarchy``), accounts
      where oncologists with a high decile or influence are a share (``members``
      ``count`` and ``share``), payers with prior-auth coverage (``coverage``),
      hospitals of large health systems (``parent.``), a reference to the first
      (``segment``) and cardiologists of the hospitals of the fourth, a customer
      segment (``account_segment``);
  (b) against the same six memberships as hand-written SQL (the select-only
      floor; then the floor with the same writes, rolled back), the member
      **sets** compared;
  (c) an incremental recompute: a few customers change specialty, decile and
      affiliation through the customers import (the product's path: the
      recompute runs on commit, eagerly without ``REDIS_URL``); the health
      system they move under must enter, and every member set must equal the
      floor's again;
  (d) the preview of each account segment through ``services.preview_rule``
      (count, sample, breakdowns by account type and territory; median of 3)
      against its floor (count and the same breakdowns in one statement);
  the machine, CPU seconds of the bench and its PostgreSQL backend, peak RSS.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a) and (b) (median)")
    parser.add_argument("--repeat", type=int, default=3, help="previews per rule (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep", action="store_true", help="reuse the database and its data; do not drop it"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each M'")
    return parser.parse_args()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.database import prepare

    ARGS = _arguments()
    if os.environ.get("REDIS_URL"):
        sys.exit("unset REDIS_URL: (c) times the eager recompute on commit")
    prepare(keep=ARGS.keep)

from django.db import connection, transaction  # noqa: E402

from accounts.models import Territory, User  # noqa: E402
from bench.bench_data import (  # noqa: E402
    SPECIALTIES,
    STATES,
    bulk_load,
    draft_copies,
    execute,
    mismatches,
    setup_segments,
)  # noqa: E402
from bench.database import cpu_seconds, drop, machine, peak_rss_mb  # noqa: E402
from bench.recompute_segments import PRODUCTS  # noqa: E402
from customers.models import Account, Coverage, Customer, Influence, ReferralNetwork  # noqa: E402
from customers.services import import_file  # noqa: E402
from segmentation import services  # noqa: E402
from segmentation.models import (  # noqa: E402
    AccountMembershipSpell,
    MembershipSpell,
    RecomputeRequest,
    RecomputeRun,
    SegmentVersion,
)
from segmentation.services.membership import target_query, without_jit  # noqa: E402

PREFIX = "acct-"
TERRITORIES = [f"T{n:02d}" for n in range(1, 51)]
SITES = ("hospital", "academic_center", "clinic", "community_practice", "infusion_center")
STATUSES = ("preferred", "covered", "prior_auth", "step_edit", "not_covered")

# --- the data: generated in Python (seeded), loaded by COPY ------------------------


def npi_of(n: int) -> str:
    """'2', ``n`` in 8 digits and the Luhn check digit over '80840' + those nine digits."""
    body = f"2{n:08d}"
    total = 0
    for i, ch in enumerate(reversed("80840" + body)):
        d = int(ch)
        if i % 2 == 0:  # from the right, the digit next to the check digit is doubled
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _copy(table: str, columns: str, rows: Iterable[tuple]) -> tuple[int, float]:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (text format, None as NULL)."""
    t0 = time.perf_counter()
    n = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            buffer: list[str] = []
            for row in rows:
                buffer.append("\t".join("\\N" if v is None else str(v) for v in row))
                n += 1
                if len(buffer) == 20_000:
                    copy.write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                copy.write("\n".join(buffer) + "\n")
    return n, time.perf_counter() - t0


class World:
    """The generated accounts: ids by kind, parents, and what the incremental step needs."""

    def __init__(self, accounts: int, rng: random.Random):
        self.systems = [f"HS{i:06d}" for i in range(max(1, accounts // 50))]
        self.payers = [f"PY{i:06d}" for i in range(max(1, accounts // 10))]
        self.sites: list[str] = []
        self.parent: dict[str, str | None] = {}
        self.rows: list[tuple] = []
        now = datetime.now(UTC)
        for a in self.systems:
            self.parent[a] = None
            self._row(rng, a, "health_system", None, rng.randint(100, 3000), now)
        for a in self.payers:
            self.parent[a] = None
            self._row(rng, a, "payer", None, None, now)
        below_system: list[str] = []
        for i in range(max(0, accounts - len(self.systems) - len(self.payers))):
            a = f"AC{i:07d}"
            r = rng.random()
            if r < 0.55:
                parent = rng.choice(self.systems)
                below_system.append(a)
            elif r < 0.75 and below_system:
                parent = rng.choice(below_system)  # three levels: system, hospital, clinic
            else:
                parent = None
            kind = SITES[rng.randrange(len(SITES))]
            beds = rng.randint(20, 1200) if kind in ("hospital", "academic_center") else None
            self.parent[a] = parent
            self.sites.append(a)
            self._row(rng, a, kind, parent, beds, now)
        self.affiliable = self.systems + self.sites

    def _row(self, rng, account_id, kind, parent, beds, now) -> None:
        self.rows.append(
            (
                account_id,
                f"Bench {kind.replace('_', ' ')} {account_id}",
                kind,
                parent,
                STATES[rng.randrange(len(STATES) - 1)],
                "",
                rng.choice(TERRITORIES),
                beds,
                "",
                "t",
                now.isoformat(),
            )
        )

    def coverage(self, rng: random.Random, as_of: datetime) -> Iterator[tuple]:
        day = as_of.date()
        for payer in self.payers:
            for product in PRODUCTS:
                yield (
                    payer,
                    product,
                    rng.choice(STATUSES),
                    rng.randint(1_000, 2_000_000),
                    day - timedelta(days=700),
                )
                if rng.random() < 0.5:
                    yield (
                        payer,
                        product,
                        rng.choice(STATUSES),
                        rng.randint(1_000, 2_000_000),
                        day - timedelta(days=rng.randint(30, 300)),
                    )
                if rng.random() < 0.1:  # not in force yet at as_of: no rule reads it
                    yield (
                        payer,
                        product,
                        rng.choice(STATUSES),
                        rng.randint(1_000, 2_000_000),
                        day + timedelta(days=30),
                    )


def _customers(n: int, world: World, rng: random.Random) -> Iterator[tuple]:
    now = datetime.now(UTC).isoformat()
    credentials = ("MD", "DO", "NP", "PA", "PharmD", "RN", "")
    for g in range(1, n + 1):
        yield (
            npi_of(g),
            "Bench",
            f"Customer {g}",
            credentials[rng.randrange(7)],
            SPECIALTIES[rng.randrange(len(SPECIALTIES))],
            "prescriber",
            "",
            rng.choice(world.affiliable) if rng.random() < 0.8 else None,
            STATES[rng.randrange(len(STATES))],
            "",
            rng.choice(TERRITORIES),
            None if rng.random() < 0.1 else rng.randint(1, 10),
            "f",
            "",
            "t",
            now,
            now,
        )


def generate(customers: int, accounts: int, seed: int, as_of: datetime) -> None:
    """Territories, accounts, coverage, customers and influence scores, loaded by COPY."""
    rng = random.Random(seed)
    t_start = time.perf_counter()
    print(f"generating {customers:,} customers and {accounts:,} accounts ...", flush=True)
    world = World(accounts, rng)
    with transaction.atomic():
        Territory.objects.bulk_create([Territory(code=c, name=f"Bench {c}") for c in TERRITORIES])
        n, t = _copy(
            "customers_account",
            "account_id, name, account_type, parent_id, state, zip, territory_id, bed_count, "
            "formulary_status, active, updated_at",
            world.rows,
        )
        print(f"  accounts  {n:>10,} {t:7.1f} s", flush=True)
        n, t = _copy(
            "customers_coverage",
            "account_id, product, status, lives, effective_from",
            world.coverage(rng, as_of),
        )
        print(f"  coverage  {n:>10,} {t:7.1f} s", flush=True)
        with bulk_load([Customer]):
            n, t = _copy(
                "customers_customer",
                "npi, first_name, last_name, credential, specialty, role, practice_setting, "
                "account_id, state, zip, territory_id, decile, email_opt_out, taxonomy_code, "
                "active, created_at, updated_at",
                _customers(customers, world, rng),
            )
            print(f"  customers {n:>10,} {t:7.1f} s", flush=True)
        network = ReferralNetwork.objects.create(
            period_end=as_of.date() - timedelta(days=30),
            pairs=0,
            customers=0,
            imported_at=as_of,
        )
        ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
        scored = [i for i in ids if rng.random() < 0.3]
        with bulk_load([Influence]):
            n, t = _copy(
                "customers_influence",
                "network_id, customer_id, referrals_in, referrals_out, pagerank, pagerank_pct, "
                "pagerank_pct_in_specialty",
                (
                    (
                        network.pk,
                        i,
                        rng.randint(0, 40),
                        rng.randint(0, 40),
                        rng.random() / 1e5,
                        rng.randrange(100),
                        rng.randrange(100),
                    )
                    for i in scored
                ),
            )
            print(f"  influence {n:>10,} {t:7.1f} s", flush=True)
        ReferralNetwork.objects.filter(pk=network.pk).update(customers=len(scored))
    t = execute("ANALYZE")
    print(f"  analyze   {t:18.1f} s")
    print(f"  total     {time.perf_counter() - t_start:18.1f} s", flush=True)


# --- the segments: (definition, hand-written SQL of its members) ----------------------
# SQL placeholders: {day} (as_of's date), {net} (the referral period),
# {ref:KEY} (the members of segment KEY: the floor's table in (b), current members in (d)).

CARDIO_HIGH = {
    "all": [
        {"field": "specialty", "op": "eq", "value": "cardiology"},
        {"field": "decile", "op": "gte", "value": 8},
    ]
}


def segments() -> list[dict]:
    k = PREFIX
    return [
        {
            "key": k + "cardio-systems",
            "unit": "account",
            "rollup": "hierarchy",
            "entry": {
                "all": [
                    {"field": "account_type", "op": "eq", "value": "health_system"},
                    {"members": CARDIO_HIGH, "count": {"op": "gte", "value": 5}},
                ]
            },
            # The closure from the health systems down (the rule wants no other account).
            "sql": (
                "WITH RECURSIVE cl(anc, des) AS (SELECT account_id, account_id "
                "FROM customers_account WHERE account_type = 'health_system' UNION ALL "
                "SELECT cl.anc, a.account_id FROM cl JOIN customers_account a "
                "ON a.parent_id = cl.des) "
                "SELECT cl.anc AS account_id FROM cl "
                "JOIN customers_customer c ON c.account_id = cl.des "
                "JOIN customers_account h ON h.account_id = cl.anc AND h.active "
                "WHERE c.specialty = 'cardiology' AND c.decile >= 8 "
                "GROUP BY cl.anc HAVING count(*) >= 5"
            ),
        },
        {
            "key": k + "onc-share",
            "unit": "account",
            "rollup": "direct",
            "entry": {
                "members": {
                    "all": [
                        {"field": "specialty", "op": "in", "value": ["oncology", "hematology"]},
                        {
                            "any": [
                                {"field": "decile", "op": "gte", "value": 7},
                                {
                                    "field": "influence.pagerank_pct_in_specialty",
                                    "op": "gte",
                                    "value": 80,
                                },
                            ]
                        },
                    ]
                },
                "count": {"op": "gte", "value": 2},
                "share": {"op": "gte", "value": 0.2},
            },
            # One pass over the affiliated customers: all of them and the matching ones.
            "sql": (
                "SELECT a.account_id FROM customers_account a JOIN (SELECT c.account_id, "
                "count(*) AS n, count(*) FILTER (WHERE c.specialty IN ('oncology', "
                "'hematology') AND (c.decile >= 7 OR i.pagerank_pct_in_specialty >= 80)) AS m "
                "FROM customers_customer c LEFT JOIN customers_influence i "
                "ON i.customer_id = c.id AND i.network_id = {net} "
                "WHERE c.account_id IS NOT NULL GROUP BY c.account_id) t "
                "ON t.account_id = a.account_id "
                "WHERE a.active AND t.m >= 2 AND t.m::float8 / t.n >= 0.2"
            ),
        },
        {
            "key": k + "pa-payers",
            "unit": "account",
            "rollup": "direct",
            "entry": {
                "all": [
                    {"field": "account_type", "op": "eq", "value": "payer"},
                    {
                        "coverage": {"product": "CARDIOZEN"},
                        "status": {"op": "in", "value": ["prior_auth", "step_edit"]},
                        "lives": {"op": "gte", "value": 250_000},
                    },
                ]
            },
            "sql": (
                "SELECT a.account_id FROM customers_account a JOIN (SELECT DISTINCT ON "
                "(account_id) account_id, status, lives FROM customers_coverage "
                "WHERE product = 'CARDIOZEN' AND effective_from <= {day} "
                "ORDER BY account_id, effective_from DESC) cv ON cv.account_id = a.account_id "
                "WHERE a.active AND a.account_type = 'payer' "
                "AND cv.status IN ('prior_auth', 'step_edit') AND cv.lives >= 250000"
            ),
        },
        {
            "key": k + "system-hospitals",
            "unit": "account",
            "rollup": "direct",
            "entry": {
                "all": [
                    {"field": "account_type", "op": "in", "value": ["hospital", "academic_center"]},
                    {"field": "parent.account_type", "op": "eq", "value": "health_system"},
                    {"field": "parent.bed_count", "op": "gte", "value": 500},
                ]
            },
            "sql": (
                "SELECT a.account_id FROM customers_account a "
                "JOIN customers_account p ON p.account_id = a.parent_id "
                "WHERE a.active AND a.account_type IN ('hospital', 'academic_center') "
                "AND p.account_type = 'health_system' AND p.bed_count >= 500"
            ),
        },
        {
            "key": k + "big-cardio-systems",
            "unit": "account",
            "rollup": "direct",
            "entry": {
                "all": [
                    {"segment": k + "cardio-systems"},
                    {"field": "bed_count", "op": "gte", "value": 1000},
                ]
            },
            "sql": (
                "SELECT a.account_id FROM customers_account a "
                "WHERE a.active AND a.bed_count >= 1000 "
                "AND a.account_id IN ({ref:acct-cardio-systems})"
            ),
        },
        {
            "key": k + "cardiologists-in-systems",
            "unit": "customer",
            "entry": {
                "all": [
                    {"account_segment": k + "system-hospitals"},
                    {"field": "specialty", "op": "eq", "value": "cardiology"},
                ]
            },
            "sql": (
                "SELECT c.id FROM customers_customer c WHERE c.active "
                "AND c.specialty = 'cardiology' "
                "AND c.account_id IN ({ref:acct-system-hospitals})"
            ),
        },
    ]


def _table(key: str) -> str:
    return "floor_" + key.replace("-", "_")


def _member_column(d: dict) -> str:
    return "account_id" if d["unit"] == "account" else "id"


def _spells(d: dict) -> tuple[str, str]:
    """(spell table, member column) of a definition's unit."""
    if d["unit"] == "account":
        return AccountMembershipSpell._meta.db_table, "account_id"
    return MembershipSpell._meta.db_table, "customer_id"


def _versions(defs: list[dict]) -> dict[str, int]:
    return dict(
        SegmentVersion.objects.filter(segment__key__in=[d["key"] for d in defs]).values_list(
            "segment__key", "pk"
        )
    )


def _current(d: dict, version_id: int) -> str:
    table, column = _spells(d)
    return f"SELECT {column} FROM {table} WHERE version_id = {version_id} AND exited_as_of IS NULL"


def _sql(d: dict, as_of: datetime, ref) -> str:
    sql = d["sql"].replace("{day}", f"DATE '{as_of.date().isoformat()}'")
    network = ReferralNetwork.objects.order_by("-period_end").values_list("pk", flat=True).first()
    sql = sql.replace("{net}", str(network or 0))
    while "{ref:" in sql:
        start = sql.index("{ref:")
        end = sql.index("}", start)
        sql = sql[:start] + ref(sql[start + 5 : end]) + sql[end + 1 :]
    return sql


# --- (a) and (b) -------------------------------------------------------------------


def floor_sql(
    defs: list[dict], as_of: datetime, *, writes: bool = False
) -> tuple[dict[str, float], dict[str, int], dict[str, int]]:
    """Each definition's hand-written SQL into a temp table (dependency order, a reference
    reading the referenced floor's table); time and count per key, and (without ``writes``)
    how many members are in the floor's set or the engine's current members, not both.

    With ``writes``, each floor also writes one membership spell per member into the
    real table (a fresh draft version's, as a first recompute does), rolled back.
    """
    times: dict[str, float] = {}
    counts: dict[str, int] = {}
    differ: dict[str, int] = {}
    versions = _versions(defs)
    with transaction.atomic():
        without_jit()
        targets, runs = draft_copies(versions, as_of) if writes else (versions, {})
        for d in defs:
            table, column = _table(d["key"]), _member_column(d)
            sql = _sql(d, as_of, lambda key: f"SELECT {column_of(key, defs)} FROM {_table(key)}")
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TEMP TABLE {table} AS {sql}")
                counts[d["key"]] = cursor.rowcount
                if writes:
                    spells, spell_column = _spells(d)
                    cursor.execute(
                        f"INSERT INTO {spells} (version_id, {spell_column}, entered_as_of, "
                        "entered_recorded_at, entered_run_id) "
                        f"SELECT %s, {column}, %s, now(), %s FROM {table} ORDER BY {column}",
                        [targets[d["key"]], as_of, runs[d["key"]]],
                    )
            times[d["key"]] = time.perf_counter() - t0
            if not writes:  # untimed: the members, not only their number
                differ[d["key"]] = _differing(table, column, _current(d, versions[d["key"]]))
        for d in defs:
            execute(f"DROP TABLE IF EXISTS {_table(d['key'])}")
        if writes:
            transaction.set_rollback(True)
    return times, counts, differ


def column_of(key: str, defs: list[dict]) -> str:
    return next(_member_column(d) for d in defs if d["key"] == key)


def _differing(table: str, column: str, members: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ((SELECT {column} FROM {table} EXCEPT {members}) UNION ALL "
            f"({members} EXCEPT SELECT {column} FROM {table})) d"
        )
        return cursor.fetchone()[0]


def full_run(user: User, defs: list[dict], as_of: datetime, *, verbose: bool) -> dict:
    """(a) from empty and again unchanged, (b) select-only; member sets compared."""
    setup_segments(user, defs, PREFIX)
    keys = [d["key"] for d in defs]
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    results = services.recompute_segment_keys(keys=keys, as_of=as_of, trigger="manual")
    full = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    t0 = time.perf_counter()
    again = services.recompute_segment_keys(keys=keys, as_of=as_of, trigger="manual")
    unchanged = time.perf_counter() - t0
    floor_times, counts, differ = floor_sql(defs, as_of)
    cpu2 = cpu_seconds()
    engine = {r.segment: r.member_count for r in results}
    if verbose:
        again_ms = {r.segment: r.duration_ms for r in again}
        print(f"  {'segment':34} {'members':>9}  {'empty':>8} {'again':>8} {'floor':>8}")
        for r in results:
            print(
                f"  {r.segment:34} {r.member_count:>9,}  {r.duration_ms:>6,}ms "
                f"{again_ms[r.segment]:>6,}ms {floor_times[r.segment] * 1000:>6,.0f}ms"
            )
    mismatched = mismatches(engine, counts, differ)
    return {
        "full": full,
        "unchanged": unchanged,
        "changed_again": sum(r.changed for r in again),
        "floor": sum(floor_times.values()),
        "floor_times": floor_times,
        "mismatched": mismatched,
        "members": engine,
        "cpu_engine": (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]),
        "cpu_rest": (cpu2[0] - cpu1[0], cpu2[1] - cpu1[1]),
    }


# --- (c) incremental -------------------------------------------------------------


def _cardio_counts() -> dict[str, int]:
    """Cardiologists in decile 8+ below each health system (itself included)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE cl(anc, des) AS (SELECT account_id, account_id FROM customers_account "
            "WHERE account_type = 'health_system' UNION ALL SELECT cl.anc, a.account_id FROM cl "
            "JOIN customers_account a ON a.parent_id = cl.des) "
            "SELECT cl.anc, count(c.id) FROM cl LEFT JOIN customers_customer c "
            "ON c.account_id = cl.des AND c.specialty = 'cardiology' AND c.decile >= 8 "
            "GROUP BY cl.anc"
        )
        return dict(cursor.fetchall())


def change_plan(rng: random.Random, extra: int = 5) -> tuple[str, str, list[Customer], int]:
    """A health system just under the threshold, one of its sites, and the customers to
    move there as cardiologists in decile 9 (enough to reach 5), plus ``extra`` customers
    who leave their account. Returns (system, site, customers, how many move in)."""
    counts = _cardio_counts()
    below = sorted((n, a) for a, n in counts.items() if n < 5)
    n, system = below[-1]
    site = (
        Account.objects.filter(parent_id=system)
        .order_by("account_id")
        .values_list("account_id", flat=True)
        .first()
        or system
    )
    under = {a for a in _below(system)}
    movers = list(
        Customer.objects.exclude(specialty="cardiology")
        .exclude(account_id__in=under)
        .filter(account_id__isnull=False)
        .order_by("id")[: 5 - n + extra]
    )
    rng.shuffle(movers)
    return system, site, movers, 5 - n


def _below(system: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE cl(des) AS (SELECT %s::varchar UNION ALL SELECT a.account_id FROM cl "
            "JOIN customers_account a ON a.parent_id = cl.des) SELECT des FROM cl",
            [system],
        )
        return [r[0] for r in cursor.fetchall()]


def incremental(defs: list[dict], as_of: datetime, rng: random.Random) -> dict:
    """(c): the customers import changes a few customers; the recompute runs on its commit."""
    system, site, movers, moving_in = change_plan(rng)
    versions = _versions(defs)
    was_member = AccountMembershipSpell.objects.filter(
        version_id=versions[PREFIX + "cardio-systems"], account_id=system, exited_as_of=None
    ).exists()
    lines = ["npi,first_name,last_name,specialty,decile,account_id"]
    for i, c in enumerate(movers):
        if i < moving_in:
            lines.append(f"{c.npi},{c.first_name},{c.last_name},cardiology,9,{site}")
        else:  # leaves its account: the account loses an affiliated customer
            lines.append(f"{c.npi},{c.first_name},{c.last_name},{c.specialty},{c.decile or ''},")
    data = ("\n".join(lines) + "\n").encode()
    last_run = RecomputeRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
    last_request = RecomputeRequest.objects.order_by("-id").values_list("id", flat=True).first()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    import_file(kind="customers", file=io.BytesIO(data), file_name="changes.csv")
    total = time.perf_counter() - t0
    cpu1 = cpu_seconds()
    runs = list(
        RecomputeRun.objects.filter(id__gt=last_run, trigger="data_change").values_list(
            "version__segment__key", "duration_ms", "entered", "exited"
        )
    )
    # The recompute's own time: from the task taking the import's request to its end.
    task = sum(
        (r.done_at - r.started_at).total_seconds()
        for r in RecomputeRequest.objects.filter(id__gt=last_request or 0)
    )
    is_member = AccountMembershipSpell.objects.filter(
        version_id=versions[PREFIX + "cardio-systems"], account_id=system, exited_as_of=None
    ).exists()
    floor_times, counts, differ = floor_sql(defs, as_of)
    members = {
        d["key"]: SegmentVersion.objects.get(pk=versions[d["key"]]).member_count for d in defs
    }
    mismatched = mismatches(members, counts, differ)
    return {
        "system": system,
        "site": site,
        "changed": len(movers),
        "entered": (was_member, is_member),
        "total": total,
        "task": task,
        "runs": runs,
        "floor": sum(floor_times.values()),
        "floor_times": floor_times,
        "mismatched": mismatched,
        "cpu": (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]),
    }


# --- (d) previews ----------------------------------------------------------------


def preview_figures(user: User, defs: list[dict], as_of: datetime, repeat: int) -> list[tuple]:
    """Each account segment's preview (median of ``repeat``) and its floor's (median too):
    (key, preview count, floor count, preview s, floor s)."""
    versions = _versions(defs)
    out = []
    for d in defs:
        if d["unit"] != "account":
            continue
        engine_times, floor_times = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            preview = services.preview_rule(
                user=user,
                entry_rule=d["entry"],
                unit="account",
                rollup=d.get("rollup"),
                as_of=as_of,
            )
            engine_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            count = _preview_floor(d, defs, versions, as_of)
            floor_times.append(time.perf_counter() - t0)
        out.append(
            (
                d["key"],
                preview.count,
                count,
                statistics.median(engine_times),
                statistics.median(floor_times),
            )
        )
    return out


def _preview_floor(d: dict, defs: list[dict], versions: dict[str, int], as_of: datetime) -> int:
    """The floor of a preview: count, the first 20 by id, and the counts by account type and
    by territory of the rule's accounts, in one statement (a reference reads the current
    members, as the preview does)."""
    by_key = {x["key"]: x for x in defs}
    sql = _sql(d, as_of, lambda key: _current(by_key[key], versions[key]))
    with transaction.atomic(), connection.cursor() as cursor:
        without_jit()
        cursor.execute(
            f"WITH m AS MATERIALIZED ({sql}) "
            "SELECT NULL, NULL, count(*) FROM m UNION ALL "
            "(SELECT a.account_id, NULL, 0 FROM customers_account a "
            "WHERE a.account_id IN (SELECT account_id FROM m) ORDER BY a.account_id LIMIT 20) "
            "UNION ALL SELECT a.account_type, a.territory_id, count(*) FROM customers_account a "
            "JOIN m USING (account_id) GROUP BY GROUPING SETS ((a.account_type), "
            "(a.territory_id))"
        )
        return cursor.fetchone()[2]


def explain(defs: list[dict], as_of: datetime) -> None:
    """EXPLAIN (ANALYZE) of each segment's M' as the engine forms it (unchanged data)."""
    versions = SegmentVersion.objects.filter(segment__key__in=[d["key"] for d in defs])
    for version in versions.select_related("segment"):
        qs = target_query(version=version, as_of=as_of, scope=None, scope_sql=None)
        sql, params = qs.values("pk").query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            without_jit()
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join("    " + row[0] for row in cursor.fetchall())
        print(f"\n  {version.segment.key}:\n{plan}")


# --- main --------------------------------------------------------------------------


def main(args: argparse.Namespace) -> None:
    as_of = datetime.now(UTC).replace(microsecond=0)
    if Customer.objects.count() < args.customers:
        generate(args.customers, args.accounts, args.seed, as_of)
    print(f"machine: {machine()}")
    print(
        f"data: {Customer.objects.count():,} customers "
        f"({Customer.objects.filter(account__isnull=False).count():,} affiliated), "
        f"{Account.objects.count():,} accounts "
        f"({Account.objects.filter(parent__isnull=False).count():,} with a parent), "
        f"{Coverage.objects.count():,} coverage rows, {Influence.objects.count():,} "
        "influence scores",
        flush=True,
    )
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "full_name": "Bench"}
    )
    defs = segments()

    rounds = []
    for number in range(1, args.rounds + 1):
        last = number == args.rounds
        print(f"\n(a) full recompute of {len(defs)} segments (service), round {number}")
        run = full_run(user, defs, as_of, verbose=last)
        rounds.append(run)
        print(
            f"  from empty {run['full']:.2f} s ({sum(run['members'].values()):,} members), "
            f"again with unchanged data {run['unchanged']:.2f} s "
            f"({run['changed_again']} segments changed)"
        )
        print(f"(b) hand-written SQL floor, select-only {run['floor']:.2f} s")
        print(
            "  member sets: "
            + ("all equal" if not run["mismatched"] else f"DIFFER {run['mismatched']}")
        )
        print(
            f"  round {number}: (a)/(b) = {run['full'] / run['floor']:.2f}x, "
            f"(a) unchanged/(b) = {run['unchanged'] / run['floor']:.2f}x; CPU of (a): "
            f"bench {run['cpu_engine'][0]:.1f} s + PostgreSQL {run['cpu_engine'][1]:.1f} s; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    med = {k: statistics.median(r[k] for r in rounds) for k in ("full", "unchanged", "floor")}
    print(
        f"\nmedians of {len(rounds)} rounds: (a) {med['full']:.2f} s, (a) unchanged "
        f"{med['unchanged']:.2f} s, (b) {med['floor']:.2f} s; (a)/(b) "
        f"{statistics.median(r['full'] / r['floor'] for r in rounds):.2f}x, (a) unchanged/(b) "
        f"{statistics.median(r['unchanged'] / r['floor'] for r in rounds):.2f}x"
    )
    with_writes, _, _ = floor_sql(defs, as_of, writes=True)
    total_writes = sum(with_writes.values())
    print(
        f"(b) with the same writes (one spell per member, rolled back) {total_writes:.2f} s; "
        f"(a)/(b with writes) {med['full'] / total_writes:.2f}x"
    )
    if args.explain:
        explain(defs, as_of)

    print("\n(c) incremental: a few customers change through the customers import")
    inc = incremental(defs, as_of, random.Random(args.seed + 1))
    print(
        f"  {inc['changed']} customers changed; {inc['system']} (via {inc['site']}) member of "
        f"{PREFIX}cardio-systems before/after: {inc['entered'][0]}/{inc['entered'][1]}"
    )
    run_ms = sum(r[1] for r in inc["runs"])
    print(
        f"  import call to last membership write {inc['total']:.3f} s; the recompute task "
        f"(request taken -> done, every affected segment) {inc['task']:.3f} s, {run_ms} ms of "
        f"it in {len(inc['runs'])} runs with changes; CPU of the call: bench "
        f"{inc['cpu'][0]:.1f} s + PostgreSQL {inc['cpu'][1]:.1f} s"
    )
    for key, ms, entered, exited in inc["runs"]:
        print(f"    {key:34} {ms:>6,} ms  +{entered} -{exited}")
    print(
        f"  floor of the six memberships after the change {inc['floor']:.2f} s; "
        f"(c) recompute task/floor {inc['task'] / inc['floor']:.2f}x"
    )
    print(
        "  member sets after the change: "
        + ("all equal" if not inc["mismatched"] else f"DIFFER {inc['mismatched']}")
    )

    print(f"\n(d) account previews (median of {args.repeat}) against their floors")
    for key, count, floor_count, t, ft in preview_figures(user, defs, as_of, args.repeat):
        same = "" if count == floor_count else f" DIFFER (floor {floor_count:,})"
        print(
            f"  {key:34} count {count:>7,}{same}  {t * 1000:7.0f} ms  floor {ft * 1000:6.0f} ms"
            f"  {t / ft:5.2f}x"
        )

    bad = [r["mismatched"] for r in rounds if r["mismatched"]] + (
        [inc["mismatched"]] if inc["mismatched"] else []
    )
    if inc["entered"] != (False, True):
        bad.append({"incremental": "the health system did not enter"})
    cpu = cpu_seconds()
    print(
        f"\npeak RSS {peak_rss_mb():.0f} MB; CPU bench {cpu[0]:.1f} s + PostgreSQL {cpu[1]:.1f} s "
        f"(whole run); load average now {os.getloadavg()[0]:.1f}"
    )
    if bad:
        sys.exit(f"member sets differ: {bad}")


if __name__ == "__main__":
    try:
        main(ARGS)
    finally:
        if not ARGS.keep:
            connection.close()
            print(drop(os.environ["DATABASE_URL"]))
