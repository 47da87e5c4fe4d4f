"""Recompute benchmark (run by hand, on PostgreSQL). Prints figures; changes only bench data.

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench \\
        .venv/bin/python bench/bench_recompute.py --customers 100000 --interactions 2000000 [--keep]

The database is the bench's own (bench/database.py): created again each run,
or reused with ``--keep`` (the data of an earlier round with it).

Measures (bench/README.md has the figures and the exact commands)
  (a) a full recompute of 20 typical segments (field, event, rx, account, attr,
      nested groups, references, a parent, exit rules) through the service,
      from empty; then the same run again (unchanged data: nothing written);
  (b) the same 20 memberships as hand-written SQL into temp tables (the
      select-only floor, reading the summaries the engine reads: InteractionRecency
      and RxYear), checking that both give the same member sets;
      then the floor with the same writes (membership + history rows, FK
      checks immediate, rolled back), and the ratios;
  (c) 1,000 new interactions recorded through the service: time from the
      call, and from its commit, to the last membership write (with REDIS_URL
      set the work runs on a real Celery worker and the bench waits for it);
  (d) preview latency of every one of the 20 rules, and the EXPLAIN of the
      slowest; with ``--many 200``, 200 segments (the 20 templates with varied
      values and windows) from empty against their 200 floors one by one;
  the machine, and the peak memory of the bench (and of the worker, given
  ``--worker-pid``).

Before (c) and (d) the bench vacuums the tables its own (a) and (b) rounds
wrote (millions of spells written and deleted): otherwise autovacuum takes one
of the two cores in the middle of them, which no steady-state preview meets.

Data: with ``--generate`` (the default when the database has fewer customers
than ``--customers``) the bench writes its own synthetic data set with
``generate_series`` (NPIs start with 2 and carry valid check digits; names say
"Bench"). To measure on ``seed_demo --customers N`` data instead, run seed_demo
first and pass ``--no-generate``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.database import machine, peak_rss_mb, prepare  # noqa: E402

# The bench's own database (bench/database.py): dropped and created again, or
# with --keep (and with --no-generate, which measures data made elsewhere) reused.
prepare(keep=bool({"--keep", "--no-generate"} & set(sys.argv[1:])))

from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.bench_data import (  # noqa: E402
    draft_copies,
    execute,
    generate,
    mismatches,
    setup_segments,
    summaries_off,
)  # noqa: E402
from bench.recompute_segments import PREFIX, segments, written_floor  # noqa: E402
from customers.models import Customer, Interaction, RxFact  # noqa: E402
from customers.services import import_file, record_interactions  # noqa: E402
from segmentation import services  # noqa: E402
from segmentation.models import (  # noqa: E402
    MembershipSpell,
    RecomputeRun,
    Segment,
    SegmentVersion,
)
from segmentation.services.membership import without_jit  # noqa: E402
from segmentation.services.preview import fresh_members_query, summary_statement  # noqa: E402


def floor_sql(
    defs: list[dict], as_of: datetime, *, writes: bool = False
) -> tuple[float, dict[str, int], dict[str, float]]:
    """Hand-written SQL for the same memberships, into temp tables; time, counts, time per key.

    Run with JIT off, as the engine runs its statements.

    With ``writes``, each floor also writes what a recompute from empty
    writes (one membership spell per member, in customer order, into the
    real table with its indexes), all in one transaction that is rolled back:
    the floor with the same writes. The spells go to a fresh draft version of
    each segment (untimed), as a first recompute's do: deleting the live
    versions' spells in the same transaction would leave a dead duplicate in
    the open-spell key for every insert to check.
    """
    counts: dict[str, int] = {}
    times: dict[str, float] = {}
    differ: dict[str, int] = {}
    versions = dict(
        SegmentVersion.objects.filter(segment__key__in=[d["key"] for d in defs]).values_list(
            "segment__key", "pk"
        )
    )
    with transaction.atomic():
        execute("SET LOCAL jit = off")  # as the engine runs (membership.without_jit)
        runs = {}
        if writes:
            copies, runs = draft_copies(versions, as_of)
            versions.update(copies)
        for d in defs:
            table = "floor_" + d["key"].replace("-", "_")
            where = written_floor(d["sql"], as_of)
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(
                    f"CREATE TEMP TABLE {table} AS SELECT c.id FROM customers_customer c "
                    f"WHERE {where}"
                )
                counts[d["key"]] = cursor.rowcount
                if writes:
                    cursor.execute(
                        "INSERT INTO segmentation_membershipspell (version_id, customer_id, "
                        "entered_as_of, entered_recorded_at, entered_run_id) "
                        f"SELECT %s, id, %s, now(), %s FROM {table} ORDER BY id",
                        [versions[d["key"]], as_of, runs[d["key"]]],
                    )
            times[d["key"]] = time.perf_counter() - t0
            if not writes:  # untimed: the members, not only their number
                differ[d["key"]] = _differing(table, versions[d["key"]])
        for d in defs:
            execute(f"DROP TABLE IF EXISTS floor_{d['key'].replace('-', '_')}")
        if writes:
            transaction.set_rollback(True)
    return sum(times.values()), counts, times, differ


def _differing(table: str, version_id: int) -> int:
    """How many customers are in the floor's ``table`` or the version's current members,
    not both."""
    members = (
        "SELECT customer_id FROM segmentation_membershipspell "
        "WHERE version_id = %s AND exited_as_of IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ((SELECT id FROM {table} EXCEPT {members}) UNION ALL "
            f"({members} EXCEPT SELECT id FROM {table})) d",
            [version_id, version_id],
        )
        return cursor.fetchone()[0]


def incremental(user: User, n: int) -> tuple[float, float, int, int]:
    """Record ``n`` interactions through the service; time until membership reflects them.

    Returns (call -> last membership write, commit -> last membership write,
    runs with changes, the runs' own summed duration in ms). With REDIS_URL a
    real worker does the work: the bench polls every 10 ms for the
    data_change runs (written in the worker's one transaction) and stops once
    their number has not moved for 3 s after the first (or none came in 60 s).
    """
    npis = list(
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
        for i, npi in enumerate(npis)
    ]
    last_id = RecomputeRun.objects.order_by("-id").values_list("id", flat=True).first() or 0
    new_runs = RecomputeRun.objects.filter(trigger="data_change", id__gt=last_id)
    t0 = time.perf_counter()
    record_interactions(data=payload, user=user)
    committed = time.perf_counter()
    done = committed
    if os.environ.get("REDIS_URL"):
        # Wait for the first run (up to a minute), then until none has come for 3 s.
        last, stable_since = 0, time.perf_counter()
        while time.perf_counter() - stable_since < (3 if last else 60):
            seen = new_runs.count()
            if seen != last:
                last, stable_since = seen, time.perf_counter()
                done = stable_since
            time.sleep(0.01)
    runs = list(new_runs.values_list("duration_ms", flat=True))
    return done - t0, done - committed, len(runs), sum(runs)


def preview_times(
    user: User, defs: list[dict], as_of: datetime, repeat: int = 3
) -> list[tuple[dict, int, float]]:
    """Each definition's preview through the service: (definition, count, median seconds)."""
    out = []
    for d in defs:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            preview = services.preview_rule(
                user=user,
                entry_rule=d["entry"],
                exit_rule=d.get("exit"),
                parent=d.get("parent"),
                as_of=as_of,
            )
            times.append(time.perf_counter() - t0)
        out.append((d, preview.count, statistics.median(times)))
    return out


def explain_preview(d: dict, as_of: datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a preview's statement (match, count, sample and
    breakdown in one), as the preview runs it (JIT off)."""
    parent = Segment.objects.filter(key=d["parent"]).first() if d.get("parent") else None
    qs = fresh_members_query(
        entry_rule=d["entry"], exit_rule=d.get("exit"), parent=parent, as_of=as_of
    )
    sql, params = summary_statement(qs, breakdown=True)
    with transaction.atomic(), connection.cursor() as cursor:
        without_jit()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join("    " + row[0] for row in cursor.fetchall())


def full_run(
    user: User, defs: list[dict], as_of: datetime, *, verbose: bool, repeat: bool = True
) -> dict:
    """(a) from empty and (``repeat``) again unchanged, (b) select-only; counts compared."""
    setup_segments(user, defs)
    keys = [d["key"] for d in defs]
    t0 = time.perf_counter()
    results = services.recompute_segment_keys(keys=keys, as_of=as_of, trigger="manual")
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = []
    if repeat:
        again = services.recompute_segment_keys(keys=keys, as_of=as_of, trigger="manual")
    unchanged = time.perf_counter() - t0
    # And again once the spells just written are vacuumed (untimed), as autovacuum has
    # done before a nightly run: until then the open-spell index's entries point at
    # pages not yet marked all-visible, and reading M visits each member's row.
    settled, settled_runs = None, []
    if repeat:
        settle(quiet=True)
        t0 = time.perf_counter()
        settled_runs = services.recompute_segment_keys(keys=keys, as_of=as_of, trigger="manual")
        settled = time.perf_counter() - t0
    floor, counts, floor_times, differ = floor_sql(defs, as_of)
    if verbose:
        print(
            f"  {'segment':32} {'members':>9}  {'empty':>8} {'again':>8} {'vacuumed':>8} "
            f"{'floor':>8}"
        )
        again_ms = {r.segment: r.duration_ms for r in again}
        settled_ms = {r.segment: r.duration_ms for r in settled_runs}
        for r in results:
            print(
                f"  {r.segment:32} {r.member_count:>9,}  {r.duration_ms:>6,}ms "
                f"{again_ms[r.segment]:>6,}ms {settled_ms[r.segment]:>6,}ms "
                f"{floor_times[r.segment] * 1000:>6,.0f}ms"
            )
    engine = {r.segment: r.member_count for r in results}
    per_template: dict[str, list[float]] = {}
    for r in results:
        template = r.segment.rsplit("-v", 1)[0] if "-v" in r.segment else r.segment
        pair = per_template.setdefault(template, [0.0, 0.0])
        pair[0] += r.duration_ms / 1000
        pair[1] += floor_times[r.segment]
    mismatched = mismatches(engine, counts, differ)
    return {
        "full": full,
        "unchanged": unchanged,
        "settled": settled,
        "changed_again": sum(r.changed for r in again) + sum(r.changed for r in settled_runs),
        "floor": floor,
        "mismatched": mismatched,
        "members": sum(engine.values()),
        "per_template": per_template,
    }


def main_figures(args: argparse.Namespace, user: User, defs: list[dict], as_of: datetime) -> None:
    """(a), (b), (b) with writes and the ratios, (c), (d) with the slowest preview's plan."""
    # Rounds of (a) from empty, (a) again and (b), ratios from the same round
    # and their medians: the first round reads a cold cache, whichever side runs first.
    compact()
    rounds = []
    for number in range(1, args.rounds + 1):
        last = number == args.rounds
        print(f"\n(a) full recompute, 20 segments, dependency order (service), round {number}")
        run = full_run(user, defs, as_of, verbose=last)
        rounds.append(run)
        print(f"  total from empty {run['full']:.2f} s ({run['members']:,} members)")
        print(
            f"  again with unchanged data: {run['unchanged']:.2f} s; again once the spells "
            f"are vacuumed: {run['settled']:.2f} s; {run['changed_again']} segments changed"
        )
        print(f"(b) hand-written SQL floor (CREATE TEMP TABLE AS SELECT), round {number}")
        print(f"  select-only {run['floor']:.2f} s")
        mismatched = run["mismatched"]
        print("  member sets: " + ("all 20 equal" if not mismatched else f"DIFFER {mismatched}"))
        # The floor with writes in every round too: one measurement of it moved by a
        # fifth between runs on this machine, as much as the engine's own figures.
        run["with_writes"], _, _, _ = floor_sql(defs, as_of, writes=True)
        print(
            f"  with the same writes (one spell per member, rolled back) {run['with_writes']:.2f} s"
        )
        print(
            f"  round {number}: (a)/(b) = {run['full'] / run['floor']:.2f}x, "
            f"(a)/(b with writes) = {run['full'] / run['with_writes']:.2f}x, "
            f"(a) unchanged/(b) = {run['unchanged'] / run['floor']:.2f}x, "
            f"vacuumed {run['settled'] / run['floor']:.2f}x"
        )
    keys = ("full", "unchanged", "settled", "floor", "with_writes")
    run = {k: statistics.median(r[k] for r in rounds) for k in keys}
    print(
        f"\nmedians of {len(rounds)} rounds: (a) {run['full']:.2f} s, "
        f"(a) unchanged {run['unchanged']:.2f} s, (b) {run['floor']:.2f} s; "
        f"median ratios (a)/(b) = "
        f"{statistics.median(r['full'] / r['floor'] for r in rounds):.2f}x, "
        f"(a) unchanged/(b) = "
        f"{statistics.median(r['unchanged'] / r['floor'] for r in rounds):.2f}x; once "
        f"vacuumed {run['settled']:.2f} s, "
        f"{statistics.median(r['settled'] / r['floor'] for r in rounds):.2f}x"
    )
    print(
        f"(b) with the same writes (one spell per member, rolled back): median "
        f"{run['with_writes']:.2f} s; median (a)/(b with writes) = "
        f"{statistics.median(r['full'] / r['with_writes'] for r in rounds):.2f}x"
    )
    if args.upkeep:
        upkeep(args.upkeep)

    settle()
    for _ in range(args.incremental_runs):
        incremental_figure(user, args.new_interactions)

    if args.no_previews:
        return
    previews(user, defs, as_of, repeat=args.repeat)


def upkeep(rows: int) -> None:
    """The summaries' upkeep on its own line: ``rows`` new interactions of random bench
    customers imported through the service with InteractionRecency kept, then without
    (the triggers stepping aside, nothing written); each rolled back."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT npi FROM customers_customer TABLESAMPLE SYSTEM (10) REPEATABLE (1) LIMIT 20000"
        )
        npis = [r[0] for r in cursor.fetchall()]
    lines = ["npi,occurred_at,channel,kind,topic,asset,external_id"]
    start = datetime.now(UTC) - timedelta(days=30)
    for i in range(rows):
        moment = (start + timedelta(seconds=i * 2)).isoformat().replace("+00:00", "Z")
        lines.append(f"{npis[i * 7919 % len(npis)]},{moment},email,opened,safety,,UPKEEP-{i}")
    data = ("\n".join(lines) + "\n").encode()
    times = {}
    for label in ("with", "without"):
        with transaction.atomic():
            t0 = time.perf_counter()
            if label == "with":
                import_file(kind="interactions", file=io.BytesIO(data), file_name="upkeep.csv")
            else:
                with summaries_off():
                    import_file(kind="interactions", file=io.BytesIO(data), file_name="upkeep.csv")
            times[label] = time.perf_counter() - t0
            transaction.set_rollback(True)
    cost = times["with"] - times["without"]
    print(
        f"\nsummaries' upkeep: importing {rows:,} interactions took {times['with']:.2f} s "
        f"with InteractionRecency kept, {times['without']:.2f} s without: {cost:+.2f} s "
        f"({cost / times['with']:.0%} of the import); load average {os.getloadavg()[0]:.1f}"
    )


def settle(*, quiet: bool = False) -> None:
    """VACUUM (ANALYZE) what the rounds wrote, before the latencies (see the docstring)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (MembershipSpell, RecomputeRun, SegmentVersion):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    if not quiet:
        print(f"\nvacuumed the rounds' writes in {time.perf_counter() - started:.1f} s")


def compact() -> None:
    """VACUUM FULL the spells and runs before the rounds: every round of every earlier run
    deleted its segments' 2M spells and wrote them again, which leaves the open-spell
    index several times its size (457 MB for 2.1M entries after eight runs) and the
    unchanged run, which reads it, slower with every run; a production table, whose
    segments stay, does not churn like that (bench/README.md, "Unchanged data")."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (MembershipSpell, RecomputeRun):
            cursor.execute(
                f"VACUUM (FULL, ANALYZE) {connection.ops.quote_name(model._meta.db_table)}"
            )
    print(f"compacted the spells of earlier runs in {time.perf_counter() - started:.1f} s")


def incremental_figure(user: User, n: int) -> None:
    """(c), printed."""
    print(f"\n(c) incremental: {n} new interactions -> membership")
    total, after_commit, runs, run_ms = incremental(user, n)
    mode = "worker" if os.environ.get("REDIS_URL") else "eager"
    print(
        f"  {mode}: {total:.3f} s from the call, {after_commit:.3f} s from its commit, "
        f"to the last membership write; {runs} runs with changes ({run_ms} ms in the runs)"
    )


def previews(user: User, defs: list[dict], as_of: datetime, *, repeat: int) -> None:
    """(d): every rule's preview latency (median of ``repeat``) and the slowest one's plan."""
    print(f"\n(d) preview latency (median of {repeat}), every rule of the bench")
    timed = preview_times(user, defs, as_of, repeat)
    for d, count, t in timed:
        print(f"  {d['key']:32} count {count:>9,}  {t * 1000:7.0f} ms")
    slowest = max(timed, key=lambda x: x[2])
    print(f"  slowest: {slowest[0]['key']} {slowest[2] * 1000:.0f} ms; its EXPLAIN ANALYZE:")
    print(explain_preview(slowest[0], as_of))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--rx-share", type=float, default=0.2, help="share with rx facts")
    parser.add_argument("--generate", dest="generate", action="store_true", default=None)
    parser.add_argument("--no-generate", dest="generate", action="store_false")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="reuse the bench database and its data (generated by an earlier round)",
    )
    parser.add_argument("--new-interactions", type=int, default=1000)
    parser.add_argument(
        "--upkeep",
        type=int,
        default=100_000,
        metavar="N",
        help="import N interactions with and without the summaries' upkeep (0: skip)",
    )
    parser.add_argument("--many", type=int, default=0, help="also run this many segments (200)")
    parser.add_argument("--worker-pid", type=int, help="report this worker's peak RSS")
    parser.add_argument("--only-many", action="store_true", help="only the --many run")
    parser.add_argument("--no-previews", action="store_true", help="skip (d)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a) and (b) (median)")
    parser.add_argument(
        "--only-previews",
        action="store_true",
        help="only (d), on the bench segments as they are (run the bench once first)",
    )
    parser.add_argument("--previews", help="with --only-previews: comma-separated key suffixes")
    parser.add_argument(
        "--incremental-runs", type=int, default=1, metavar="N", help="measure (c) N times"
    )
    parser.add_argument("--repeat", type=int, default=3, help="previews per rule (median)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run the bench on PostgreSQL: set DATABASE_URL=postgres://...")

    as_of = datetime.now(UTC).replace(microsecond=0)
    have = Customer.objects.count()
    if args.generate or (args.generate is None and have < args.customers):
        generate(args.customers - have, args.interactions, args.rx_share, as_of)
    print(f"machine: {machine()}")
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

    if args.only_previews:
        missing = {d["key"] for d in defs} - set(
            Segment.objects.filter(key__startswith=PREFIX).values_list("key", flat=True)
        )
        if missing:
            sys.exit(f"run the bench once first: no segments {sorted(missing)}")
        if args.previews:
            wanted = {PREFIX + k for k in args.previews.split(",")}
            defs = [d for d in defs if d["key"] in wanted]
        previews(user, defs, as_of, repeat=args.repeat)
    elif not args.only_many:
        main_figures(args, user, defs, as_of)

    if args.many:
        many = [d for v in range(max(1, args.many // 20)) for d in segments(v)]
        print(f"\n(e) {len(many)} segments from the 20 templates, full recompute from empty")
        big = full_run(user, many, as_of, verbose=False, repeat=False)
        print(
            f"  engine {big['full']:.1f} s ({big['members']:,} members), select-only floors "
            f"one by one {big['floor']:.1f} s: {big['full'] / big['floor']:.2f}x"
        )
        print(f"  {'template (engine runs / floors summed)':40} {'engine':>8} {'floors':>8}")
        for template, (engine_s, floor_s) in sorted(big["per_template"].items()):
            print(f"  {template:40} {engine_s:>7.1f}s {floor_s:>7.1f}s")
        mismatched = big["mismatched"]
        print(
            "  member sets: "
            + (f"all {len(many)} equal" if not mismatched else f"DIFFER {mismatched}")
        )

    print(f"\npeak RSS: bench {peak_rss_mb():.0f} MB", end="")
    if args.worker_pid:
        print(f", worker {peak_rss_mb(args.worker_pid):.0f} MB", end="")
    print(f"; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
