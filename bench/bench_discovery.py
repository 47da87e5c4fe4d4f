"""Discovery benchmark (run by hand, on PostgreSQL). Prints figures; changes only bench data.

    DATABASE_URL=postgres://app:app@127.0.0.1:55433/app_disc \\
        .venv/bin/python bench/bench_discovery.py --customers 100000 --interactions 2000000

Measures, through the services the API calls (docs/discovery.md):
  (a) describe: a planted 3-condition rule, 70% of its members as the list;
      wall time, F1 of the returned rule against the planted members, peak RSS;
  (b) personas: k chosen by silhouette; wall time, k, peak RSS;
  (c) with ``--recovery``: 20 planted rules of 1 to 3 conditions, each
      described from 50%, 70% and 100% of its members (a fixed random sample):
      the F1 of the returned rule's selection (by the segment engine) against
      the planted members, the number of conditions returned against the
      planted number, and the verdict; then random lists of 1%, 10% and 30%
      of the population with their verdicts.

Data: the synthetic generator of bench_recompute.py (generate_series; NPIs
start with 2). Peak RSS is the process's ``ru_maxrss`` after each step (it
only grows, so each figure bounds everything run before it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The bench runs with DEBUG off (DEBUG would keep every SQL statement in memory),
# which needs keys; a bench never serves anyone, so throwaway ones do.
os.environ.setdefault("SECRET_KEY", "bench-discovery-not-a-secret")
os.environ.setdefault("AUDIT_HMAC_KEY", "bench-discovery-not-a-secret")
os.environ.setdefault("DESTINATION_SECRET_KEY", "YmVuY2gtZGlzY292ZXJ5LW5vdC1hLXNlY3JldC0wMDA=")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.bench_data import generate  # noqa: E402
from customers.models import Customer, Interaction  # noqa: E402
from discovery import services  # noqa: E402
from segmentation.rules import customer_filter  # noqa: E402
from segmentation.selectors import ReferenceResolver  # noqa: E402


def ev(channel: str, days: int, n: int, kind: str | None = None) -> dict:
    event = {"channel": channel} | ({"kind": kind} if kind else {})
    return {"event": event, "within_days": days, "count": {"op": "gte", "value": n}}


def f(path: str, op: str, value) -> dict:
    return {"field": path, "op": op, "value": value}


def rx(metric: str, months: int, n: int, product: str | None = None) -> dict:
    return {
        "rx": {"product": product} if product else {},
        "metric": metric,
        "months": months,
        "sum": {"op": "gte", "value": n},
    }


PLANTED: list[tuple[str, dict]] = [
    ("1: specialty", f("specialty", "eq", "cardiology")),
    ("1: decile", f("decile", "gte", 9)),
    ("1: specialty in 3", f("specialty", "in", ["oncology", "hematology", "neurology"])),
    ("1: rep visits", ev("rep_visit", 90, 3)),
    ("1: account type", f("account.account_type", "in", ["hospital", "academic_center"])),
    ("2: specialty, decile", {"all": [f("specialty", "eq", "cardiology"), f("decile", "gte", 7)]}),
    ("2: state, webinar", {"all": [f("state", "in", ["CA", "NY"]), ev("webinar", 90, 2)]}),
    ("2: trx, specialty", {"all": [rx("trx", 6, 60), f("specialty", "eq", "endocrinology")]}),
    ("2: decile, email", {"all": [f("decile", "lte", 3), ev("email", 30, 2)]}),
    ("2: credential, rx", {"all": [f("credential", "in", ["MD", "DO"]), rx("nrx", 3, 12)]}),
    (
        "3: example",
        {
            "all": [
                f("specialty", "in", ["cardiology", "endocrinology"]),
                f("decile", "gte", 7),
                ev("rep_visit", 90, 2),
            ]
        },
    ),
    (
        "3: state, dec, trx",
        {"all": [f("state", "eq", "TX"), f("decile", "gte", 5), rx("trx", 12, 100)]},
    ),
    (
        "3: acct, spec, phone",
        {
            "all": [
                f("account.account_type", "eq", "clinic"),
                f("specialty", "in", ["oncology", "hematology"]),
                ev("phone", 180, 2),
            ]
        },
    ),
    (
        "3: role, dec, congress",
        {"all": [f("role", "eq", "prescriber"), f("decile", "gte", 6), ev("congress", 365, 3)]},
    ),
    (
        "3: or of two",
        {
            "any": [
                {"all": [f("specialty", "eq", "oncology"), f("decile", "gte", 8)]},
                f("specialty", "eq", "rheumatology"),
            ]
        },
    ),
    (
        "3: example, state",
        {
            "all": [
                f("specialty", "in", ["cardiology", "endocrinology"]),
                f("decile", "gte", 7),
                f("state", "ne", "CA"),
            ]
        },
    ),
    (
        "3: spec, dec, trx",
        {
            "all": [
                f("specialty", "in", ["cardiology", "nephrology", "internal_medicine"]),
                f("decile", "gte", 5),
                rx("trx", 6, 40),
            ]
        },
    ),
    (
        "3: acct, state, web",
        {
            "all": [
                f("account.account_type", "in", ["hospital", "health_system"]),
                f("state", "in", ["CA", "TX", "FL"]),
                ev("webinar", 180, 1),
            ]
        },
    ),
    (
        "3: cred, spec, rep",
        {
            "all": [
                f("credential", "eq", "MD"),
                f("specialty", "in", ["oncology", "neurology"]),
                ev("rep_visit", 180, 2),
            ]
        },
    ),
    (
        "2: nephrology, trx 12m",
        {"all": [f("specialty", "eq", "nephrology"), rx("trx", 12, 150, "GLUCOVANT")]},
    ),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def members(rule: dict, as_of: datetime) -> list[str]:
    q = customer_filter(rule, as_of=as_of, segment_version_id=ReferenceResolver())
    return list(Customer.objects.filter(q).values_list("npi", flat=True))


def f1(selected: set[str], truth: set[str]) -> float:
    hits = len(selected & truth)
    return 2 * hits / (len(selected) + len(truth)) if selected or truth else 1.0


def describe_once(user, rule: dict, share: float, as_of: datetime, seed: int = 0):
    truth = members(rule, as_of)
    rng = random.Random(seed)
    given = rng.sample(truth, max(10, int(len(truth) * share)))
    t0 = time.perf_counter()
    run = services.describe_list(user=user, npis=given, as_of=as_of)
    elapsed = time.perf_counter() - t0
    recovered = set(members(run.result["entry_rule"], as_of))
    return elapsed, f1(recovered, set(truth)), len(truth), run.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=2_000_000)
    parser.add_argument("--rx-share", type=float, default=0.3)
    parser.add_argument("--recovery", action="store_true")
    parser.add_argument("--skip-personas", action="store_true")
    parser.add_argument(
        "--rules", default=":", help="with --recovery: a slice of the planted rules, e.g. 0:5"
    )
    parser.add_argument(
        "--random", choices=("yes", "no", "only"), default="yes", help="the random lists"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run the bench on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    have = Customer.objects.count()
    if have < args.customers:
        generate(args.customers - have, args.interactions, args.rx_share, datetime.now(UTC))
    as_of = Interaction.objects.order_by("-occurred_at").values_list("occurred_at", flat=True)[0]
    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores; python {platform.python_version()}"
    )
    print(
        f"data: {Customer.objects.count():,} customers, {Interaction.objects.count():,} "
        f"interactions; as_of {as_of:%Y-%m-%d %H:%M}"
    )
    user, _ = User.objects.get_or_create(
        username="bench-discovery", defaults={"is_superuser": True, "full_name": "Bench"}
    )
    if args.rules == ":" and args.random != "only":
        example = PLANTED[10][1]
        elapsed, score, n, result = describe_once(user, example, 0.7, as_of)
        print(
            f"describe: {elapsed:6.1f} s  F1 {score:.3f}  members {n:,}  selected "
            f"{result['selected']:,}  learned on {result['model']['learned_on']:,} rows  "
            f"peak RSS {peak_mb():,.0f} MB",
            flush=True,
        )
    if not args.skip_personas:
        t0 = time.perf_counter()
        run = services.find_personas(user=user, as_of=as_of)
        elapsed = time.perf_counter() - t0
        labels = "; ".join(p["label"] for p in run.result["personas"])
        print(
            f"personas: {elapsed:6.1f} s  k={run.result['k']}  peak RSS {peak_mb():,.0f} MB  "
            f"[{labels}]",
            flush=True,
        )
    if args.recovery:
        start, _, stop = args.rules.partition(":")
        chosen = PLANTED[int(start) if start else None : int(stop) if stop else None]
        recovery(user, as_of, [] if args.random == "only" else chosen, args.random != "no")


def conditions(rule: dict) -> int:
    """Conditions of a rule: leaves of its any/all tree."""
    if "any" in rule or "all" in rule:
        return sum(conditions(r) for r in rule.get("any", rule.get("all", [])))
    return 1


def recovery(user, as_of: datetime, planted: list, random_lists: bool) -> None:
    print(
        "\n| planted rule | n | members | 50%: F1 / conditions / verdict "
        "| 70%: F1 / conditions / verdict | 100%: F1 / conditions / verdict |"
    )
    print("|---|---:|---:|---|---|---|")
    worst70, over70 = 1.0, 0
    for name, rule in planted:
        n = conditions(rule)
        cells = []
        for share in (0.5, 0.7, 1.0):
            _, score, members_n, result = describe_once(user, rule, share, as_of)
            got = conditions(result["entry_rule"])
            cells.append(f"{score:.3f} / {got} / {result['verdict']}")
            if share == 0.7:
                worst70 = min(worst70, score)
                over70 += got > n + 1
        print(f"| {name} | {n} | {members_n:,} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nfrom 70%: lowest F1 {worst70:.3f}; rules over n + 1 conditions: {over70}")
    if not random_lists:
        return
    npis = list(Customer.objects.order_by("pk").values_list("npi", flat=True))
    print("\n| random list | NPIs | verdict | holdout precision / recall | selected | conditions |")
    print("|---|---:|---|---|---:|---:|")
    for share in (0.01, 0.1, 0.3):
        given = random.Random(int(share * 1000)).sample(npis, int(len(npis) * share))
        t0 = time.perf_counter()
        run = services.describe_list(user=user, npis=given, as_of=as_of)
        r = run.result
        print(
            f"| {share:.0%} | {len(given):,} | {r['verdict']} | "
            f"{r['holdout']['precision']:.3f} / {r['holdout']['recall']:.3f} | "
            f"{r['selected']:,} | {conditions(r['entry_rule'])} "
            f"({time.perf_counter() - t0:.1f} s) |",
            flush=True,
        )
    print(f"peak RSS {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
