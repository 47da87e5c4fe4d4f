"""One person at a time: how long each page of the load test takes, and where the time goes.

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench_1m \\
        .venv/bin/python bench/bench_pages.py [--repeat 3]

Run by hand after ``bench_load.py`` has set up its people, territories and the
20 active bench segments on the same database (kept). Each page of
bench/locustfile.py is requested through Django's test client (the full
middleware and template stack, DEBUG off, no network), ``--repeat`` times; the
bench prints per page the median time, the number of SQL statements and the
time spent in them, and the slowest statement. Nothing is written but the
sessions of the people it signs in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import prepare  # noqa: E402


def _arguments() -> argparse.Namespace:
    """The command line, read before the database is touched (``--help`` drops nothing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None

prepare(keep=True)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from segmentation.models import SegmentVersion  # noqa: E402


class Statements:
    """Counts the statements a request runs and times them (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.items: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.items.append((time.perf_counter() - start, sql))


def pages(people: dict[str, User], versions: list[SegmentVersion]) -> list[tuple[str, str, dict]]:
    """(name, role, request) for every page the load test's people open."""
    version = versions[len(versions) // 2]
    key = version.segment.key
    lead = people["field_lead"]
    territory = lead.territories.values_list("code", flat=True).first() or ""
    rule = {
        "all": [
            {"field": "decile", "op": "gte", "value": 6},
            {"field": "state", "op": "in", "value": ["CA", "NY", "TX"]},
            {"event": {"channel": "email"}, "within_days": 90, "count": {"op": "gte", "value": 1}},
        ]
    }
    return [
        ("segment page", "brand", {"path": f"/segments/{key}/"}),
        (
            "rule preview",
            "brand",
            {
                "path": "/segments/preview/",
                "method": "post",
                "data": {"entry_rule": json.dumps(rule), "exit_rule": ""},
                "headers": {"HX-Request": "true"},
            },
        ),
        ("review list", "reviewer", {"path": "/reviews/"}),
        ("review page", "reviewer", {"path": f"/reviews/{key}/v{version.number}/"}),
        ("territory list", "field_lead", {"path": f"/territories/{territory}/?segment={key}"}),
        (
            "territory export",
            "field_lead",
            {"path": f"/territories/{territory}/export.csv?segment={key}"},
        ),
    ]


def main() -> None:
    args = ARGS
    people = {
        role: User.objects.filter(username__startswith=f"load-{role.replace('_', '-')}-").first()
        for role in ("brand", "reviewer", "field_lead")
    }
    if not all(people.values()):
        sys.exit("run bench_load.py on this database first (it creates the load-* people)")
    versions = list(
        SegmentVersion.objects.filter(segment__key__startswith="bench-", state="active")
        .select_related("segment")
        .order_by("segment__key")
    )
    settings.ALLOWED_HOSTS = ["testserver"]
    print(f"{'page':<18} {'median':>9} {'statements':>10} {'in SQL':>9}  slowest statement")
    for name, role, request in pages(people, versions):
        client = Client()
        client.force_login(people[role])
        times, last = [], None
        for _ in range(args.repeat):
            statements = Statements()
            method = getattr(client, request.get("method", "get"))
            with connection.execute_wrapper(statements):
                start = time.perf_counter()
                response = method(
                    request["path"], data=request.get("data"), headers=request.get("headers")
                )
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                times.append(time.perf_counter() - start)
            if response.status_code != 200:
                sys.exit(f"{name}: HTTP {response.status_code}")
            last = statements
        in_sql = sum(t for t, _ in last.items)
        slow_t, slow_sql = max(last.items, default=(0.0, ""))
        print(
            f"{name:<18} {statistics.median(times) * 1000:>7,.0f}ms {len(last.items):>10} "
            f"{in_sql * 1000:>7,.0f}ms  {slow_t * 1000:,.0f} ms: {' '.join(slow_sql.split())[:160]}"
        )


if __name__ == "__main__":
    main()
