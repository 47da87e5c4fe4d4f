"""Recompute benchmark (run by hand, on PostgreSQL). Prints figures; changes only bench data.

    DATABASE_URL=postgres://app:app@127.0.0.1:55432/app_bench \\
        .venv/bin/python bench/bench_recompute.py --customers 100000 --interactions 2000000

Measures
  (a) a full recompute of 20 typical segments (field, event, rx, account, attr,
      nested groups, references, a parent, exit rules) through the service;
      then the same run again (unchanged data: nothing written);
  (b) the same 20 memberships as hand-written SQL into temp tables (the floor),
      and checks that both give the same member counts;
  (c) an incremental recompute after 1,000 new interactions recorded through
      the service (commit -> membership updated; with REDIS_URL set the work
      runs on a real Celery worker and the bench waits for it);
  (d) preview latency of a few typical rules.

Data: with ``--generate`` (the default when the database has fewer customers
than ``--customers``) the bench writes its own synthetic data set with
``generate_series`` (NPIs start with 2 and carry valid check digits; names say
"Bench"). To measure on ``seed_demo --customers N`` data instead, run seed_demo
first and pass ``--no-generate``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.recompute_segments import PREFIX, PRODUCTS, segments  # noqa: E402
from customers.models import Customer  # noqa: E402
from segmentation import services  # noqa: E402
from segmentation.models import (  # noqa: E402
    Membership,
    MembershipChange,
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


def generate(customers: int, interactions: int, rx_share: float, as_of: datetime) -> None:
    """Synthetic data with generate_series: accounts, customers, attributes, interactions, rx."""
    accounts = max(1, customers // 20)
    print(f"generating {customers:,} customers, {interactions:,} interactions ...", flush=True)
    t = execute(
        "INSERT INTO customers_account (account_id, name, account_type, state, zip, bed_count, "
        "formulary_status, updated_at) "
        f"SELECT 'BA' || g, 'Bench account ' || g, {pick(ACCOUNT_TYPES, 'g * 7')}, "
        f"{pick(STATES[:-1], 'g * 3')}, '', mod(g * 37, 900), '', now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [accounts],
    )
    print(f"  accounts     {t:7.1f} s")
    # Valid NPIs (Luhn over '80840' + the first nine digits), so the incremental
    # step can record interactions through the service's validation.
    execute(
        """
        CREATE OR REPLACE FUNCTION pg_temp.bench_npi(g bigint) RETURNS text AS $$
        DECLARE
          first9 text := '2' || lpad(g::text, 8, '0');
          payload text := '80840' || first9;
          total int := 0;
          d int;
        BEGIN
          FOR i IN 0..13 LOOP
            d := substr(payload, 14 - i, 1)::int;
            IF i %% 2 = 0 THEN
              d := d * 2;
              IF d > 9 THEN d := d - 9; END IF;
            END IF;
            total := total + d;
          END LOOP;
          RETURN first9 || ((10 - total %% 10) %% 10)::text;
        END $$ LANGUAGE plpgsql IMMUTABLE
        """.replace("%%", "%")
    )
    t = execute(
        "INSERT INTO customers_customer (npi, first_name, last_name, credential, specialty, role, "
        "practice_setting, account_id, state, zip, decile, email_opt_out, created_at, "
        "updated_at) "
        "SELECT pg_temp.bench_npi(g), 'Bench', 'Customer ' || g, "
        f"{pick(['MD', 'DO', 'NP', 'PA', 'PharmD', 'RN', ''], 'g * 13')}, "
        f"{pick(SPECIALTIES, 'mod(g * 2654435761, 1000003)')}, "
        f"{pick(['prescriber', 'prescriber', 'pharmacist', 'nurse', ''], 'g * 11')}, '', "
        "CASE WHEN mod(g, 4) = 0 THEN NULL ELSE 'BA' || (1 + mod(g * 7919, %s)) END, "
        f"{pick(STATES, 'mod(g * 48271, 2147483647)')}, '', "
        "CASE WHEN mod(g, 10) = 0 THEN NULL ELSE 1 + mod(g * 69069, 10) END, mod(g, 17) = 0, "
        "now(), now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [accounts, customers],
    )
    print(f"  customers    {t:7.1f} s")
    t = execute(
        "INSERT INTO customers_customerattribute (customer_id, key, value, number) "
        "SELECT id, 'adoption_stage', "
        f"{pick(['early', 'mid', 'late'], 'id * 31')}, NULL "
        "FROM customers_customer WHERE mod(id, 2) = 0 ON CONFLICT DO NOTHING"
    )
    print(f"  attributes   {t:7.1f} s")
    lo = Customer.objects.order_by("id").values_list("id", flat=True)[:1].get()
    hi = Customer.objects.order_by("-id").values_list("id", flat=True)[:1].get()
    batch = 2_000_000
    t_total = 0.0
    for start in range(0, interactions, batch):
        n = min(batch, interactions - start)
        t_total += execute(
            "INSERT INTO customers_interaction (customer_id, occurred_at, channel, kind, topic, "
            "asset, external_id, created_at) "
            "SELECT %s + floor(random() * (%s - %s + 1))::bigint, "
            "%s - random() * interval '400 days', "
            f"{pick(CHANNELS, 'g')}, {pick(KINDS, 'g / 8')}, {pick(TOPICS, 'g / 3')}, '', NULL, "
            "now() FROM generate_series(%s::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
            [lo, hi, lo, as_of, start + 1, start + n],
        )
    print(f"  interactions {t_total:7.1f} s")
    month0 = as_of.date().replace(day=1)
    t = execute(
        "INSERT INTO customers_rxfact (customer_id, month, product, nrx, trx, new_patient_starts) "
        "SELECT c.id, (date_trunc('month', %s::date) - m * interval '1 month')::date, p, "
        "mod(c.id * 7 + m, 9), mod(c.id * 13 + m * 3, 25), mod(c.id + m, 4) "
        "FROM customers_customer c, generate_series(0, 11) m, unnest(%s::text[]) p "
        "WHERE mod(c.id * 2654435761, 1000) < %s ON CONFLICT DO NOTHING",
        [month0, list(PRODUCTS), int(rx_share * 1000)],
    )
    print(f"  rx facts     {t:7.1f} s")
    t = execute("ANALYZE")
    print(f"  analyze      {t:7.1f} s", flush=True)


def setup_segments(user: User, defs: list[dict]) -> list[SegmentVersion]:
    """(Re)create the bench segments, active, with empty membership."""
    with transaction.atomic():
        old = SegmentVersion.objects.filter(segment__key__startswith=PREFIX)
        MembershipChange.objects.filter(version__in=old).delete()
        RecomputeRun.objects.filter(version__in=old).delete()
        Membership.objects.filter(version__in=old)._raw_delete(connection.alias)
        # Children first: parents are PROTECTed.
        for d in reversed(defs):
            Segment.objects.filter(key=d["key"]).delete()
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
        )
        version = seg.versions.get()
        SegmentVersion.objects.filter(pk=version.pk).update(state="active")
        versions.append(version)
    return versions


def floor_sql(defs: list[dict], as_of: datetime) -> tuple[float, dict[str, int]]:
    """Hand-written SQL for the same memberships, into temp tables; returns time and counts."""
    lit = f"'{as_of.isoformat()}'::timestamptz"
    m0 = f"date_trunc('month', {lit} AT TIME ZONE 'UTC')::date"
    counts: dict[str, int] = {}
    total = 0.0
    with transaction.atomic():
        for d in defs:
            table = "floor_" + d["key"].replace("-", "_")
            where = d["sql"].replace("{as_of}", lit).replace("{m0}", m0)
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(
                    f"CREATE TEMP TABLE {table} AS SELECT c.id FROM customers_customer c "
                    f"WHERE {where}"
                )
                counts[d["key"]] = cursor.rowcount
            total += time.perf_counter() - t0
    return total, counts


def incremental(user: User, n: int, as_of: datetime) -> tuple[float, int]:
    """Record ``n`` interactions through the service; time until membership reflects them."""
    from customers.services import record_interactions

    ids = list(
        Customer.objects.filter(specialty__in=["cardiology", "oncology", "endocrinology"])
        .order_by("?")
        .values_list("npi", flat=True)[:n]
    )
    now = datetime.now(UTC)
    payload = [
        {
            "npi": npi,
            "occurred_at": (now - timedelta(seconds=i + 1)).isoformat().replace("+00:00", "Z"),
            "channel": "webinar",
            "kind": "attended",
            "topic": "safety",
        }
        for i, npi in enumerate(ids)
    ]
    runs_before = RecomputeRun.objects.filter(trigger="data_change").count()
    t0 = time.perf_counter()
    record_interactions(data=payload, user=user)
    if os.environ.get("REDIS_URL"):
        # A real worker does the work: wait until data_change runs stop appearing.
        last, stable_since = -1, time.perf_counter()
        while time.perf_counter() - stable_since < 3:
            seen = RecomputeRun.objects.filter(trigger="data_change").count()
            if seen != last:
                last, stable_since = seen, time.perf_counter()
            time.sleep(0.1)
        elapsed = stable_since - t0
    else:
        elapsed = time.perf_counter() - t0
    runs = RecomputeRun.objects.filter(trigger="data_change").count() - runs_before
    return elapsed, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--rx-share", type=float, default=0.2, help="share with rx facts")
    parser.add_argument("--generate", dest="generate", action="store_true", default=None)
    parser.add_argument("--no-generate", dest="generate", action="store_false")
    parser.add_argument("--new-interactions", type=int, default=1000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run the bench on PostgreSQL: set DATABASE_URL=postgres://...")

    as_of = datetime.now(UTC).replace(microsecond=0)
    have = Customer.objects.count()
    if args.generate or (args.generate is None and have < args.customers):
        generate(args.customers - have, args.interactions, args.rx_share, as_of)
    from customers.models import Interaction, RxFact

    print(
        f"data: {Customer.objects.count():,} customers, {Interaction.objects.count():,} "
        f"interactions, {RxFact.objects.count():,} rx facts"
    )
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "full_name": "Bench"}
    )
    if not user.is_superuser:
        sys.exit("user 'bench' exists and is not a superuser")
    defs = segments()
    setup_segments(user, defs)

    print("\n(a) full recompute, 20 segments, dependency order (service)")
    t0 = time.perf_counter()
    results = services.recompute_segment_keys(
        keys=[d["key"] for d in defs], as_of=as_of, trigger="manual"
    )
    full = time.perf_counter() - t0
    for r in results:
        print(f"  {r.segment:32} members {r.member_count:>9,}  {r.duration_ms:>7,} ms")
    print(f"  total {full:.2f} s")
    t0 = time.perf_counter()
    again = services.recompute_segment_keys(
        keys=[d["key"] for d in defs], as_of=as_of, trigger="manual"
    )
    print(
        f"  again with unchanged data: {time.perf_counter() - t0:.2f} s, "
        f"{sum(r.changed for r in again)} segments changed"
    )

    print("\n(b) hand-written SQL floor (CREATE TEMP TABLE AS SELECT, same order)")
    floor, counts = floor_sql(defs, as_of)
    engine = {r.segment: r.member_count for r in results}
    mismatched = {k: (engine[k], counts[k]) for k in counts if engine[k] != counts[k]}
    print(f"  total {floor:.2f} s   engine/floor = {full / floor:.2f}x")
    print("  member counts: " + ("all 20 equal" if not mismatched else f"DIFFER {mismatched}"))

    print(f"\n(c) incremental: {args.new_interactions} new interactions -> membership")
    elapsed, runs = incremental(user, args.new_interactions, as_of)
    mode = "worker" if os.environ.get("REDIS_URL") else "eager"
    print(f"  {elapsed:.2f} s from call to updated membership ({mode}), {runs} runs with changes")

    print("\n(d) preview latency (median of 3)")
    for d in (defs[0], defs[1], defs[10], defs[11]):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            preview = services.preview_rule(
                user=user, entry_rule=d["entry"], exit_rule=d.get("exit"), as_of=as_of
            )
            times.append(time.perf_counter() - t0)
        print(
            f"  {d['key']:32} count {preview.count:>9,}  {statistics.median(times) * 1000:7.0f} ms"
        )


if __name__ == "__main__":
    main()
