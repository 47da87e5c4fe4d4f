"""Describe's recovery on the demo data (run by hand; SQLite or PostgreSQL). Prints a table.

    DEBUG=1 DATABASE_URL=sqlite:////tmp/demo/demo.sqlite3 .venv/bin/python manage.py prepare_demo
    DEBUG=1 DATABASE_URL=sqlite:////tmp/demo/demo.sqlite3 .venv/bin/python bench/discovery_demo.py

Plants rules of 1 to 3 conditions over the demo's own fields (specialty, decile,
account type, interaction counts, CARDIOZEN and GLUCOVANT prescriptions), takes a
fixed random 70% of each rule's members (evaluated by the segment engine at
``as_of``, now by default as for the API) as the list, and describes it through
the service the API calls (``describe_list``, ``max_conditions`` 4). Each row: the
planted rule's members, the conditions returned against the planted number n, the
F1 of the returned rule's selection against all planted members, and the verdict.
The acceptance (docs/discovery.md): at most n + 1 conditions and F1 >= 0.95.
Each describe run is stored and audited in the database like any other: run it
on a copy of the demo, not one that people use.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.bench_discovery import PLANTED as BENCH_RULES  # noqa: E402
from bench.bench_discovery import conditions, ev, f, f1, members, rx  # noqa: E402
from customers.models import Customer  # noqa: E402
from discovery import services  # noqa: E402

# Rules over what the demo data holds; each selects 50 or more of its 5,000 HCPs.
PLANTED: list[tuple[str, dict]] = [
    ("specialty", f("specialty", "eq", "cardiology")),
    ("decile", f("decile", "gte", 8)),
    ("account type", f("account.account_type", "in", ["hospital", "academic_center"])),
    ("rep visits", ev("rep_visit", 90, 4)),
    ("specialty, decile", {"all": [f("specialty", "eq", "endocrinology"), f("decile", "gte", 5)]}),
    (
        "specialty, CARDIOZEN TRx",
        {"all": [f("specialty", "eq", "cardiology"), rx("trx", 12, 20, "CARDIOZEN")]},
    ),
    (
        "account type, webinars",
        {"all": [f("account.account_type", "eq", "clinic"), ev("webinar", 180, 2)]},
    ),
    ("specialty, decile, rep visits", dict(BENCH_RULES)["3: example"]),
    (
        "specialty, decile, GLUCOVANT TRx",
        {
            "all": [
                f("specialty", "in", ["endocrinology", "internal_medicine", "family_medicine"]),
                f("decile", "gte", 4),
                rx("trx", 12, 20, "GLUCOVANT"),
            ]
        },
    ),
    (
        "account type, specialty, emails",
        {
            "all": [
                f("account.account_type", "in", ["hospital", "health_system"]),
                f("specialty", "eq", "internal_medicine"),
                ev("email", 90, 3),
            ]
        },
    ),
]


def recover(user, rule: dict, *, share: float, as_of, seed: int = 7) -> dict:
    """Describe a fixed ``share`` of ``rule``'s members; the figures of one row."""
    truth = sorted(members(rule, as_of))
    given = random.Random(seed).sample(truth, int(len(truth) * share))
    started = time.perf_counter()
    result = services.describe_list(user=user, npis=given, as_of=as_of).result
    return {
        "members": len(truth),
        "listed": len(given),
        "conditions": conditions(result["entry_rule"]),
        "f1": f1(set(members(result["entry_rule"], as_of)), set(truth)),
        "verdict": result["verdict"],
        "plain_english": result["plain_english"],
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, default=0.7)
    parser.add_argument("--counts", action="store_true", help="only the planted rules' sizes")
    args = parser.parse_args()
    as_of = timezone.now().replace(microsecond=0)
    user = (
        User.objects.filter(username="brand").first()
        or User.objects.get_or_create(
            username="bench-discovery", defaults={"is_superuser": True, "full_name": "Bench"}
        )[0]
    )
    print(f"{Customer.objects.count():,} customers; as_of {as_of:%Y-%m-%d %H:%M} UTC; "
          f"{args.share:.0%} of each rule's members as the list")  # fmt: skip
    if args.counts:
        for name, rule in PLANTED:
            print(f"{name}: {len(members(rule, as_of)):,}")
        return
    print("\n| planted rule | n | members | list | conditions returned | F1 | verdict | time |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    worst, over = 1.0, 0
    for name, rule in PLANTED:
        n = conditions(rule)
        row = recover(user, rule, share=args.share, as_of=as_of)
        worst, over = min(worst, row["f1"]), over + (row["conditions"] > n + 1)
        print(
            f"| {name} | {n} | {row['members']:,} | {row['listed']:,} | {row['conditions']} "
            f"| {row['f1']:.3f} | {row['verdict']} | {row['seconds']:.1f} s |",
            flush=True,
        )
        print(f"<!-- {row['plain_english']} -->", file=sys.stderr)
    print(f"\nlowest F1 {worst:.3f}; rules over n + 1 conditions: {over} of {len(PLANTED)}")


if __name__ == "__main__":
    main()
