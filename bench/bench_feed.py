"""A day's feed of interactions into the 1M bench database, imported and rolled back.

    DEBUG=1 DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench_1m \\
        .venv/bin/python bench/bench_feed.py --interactions 1000000 [--repeat 2]

``bench_import.py`` measures a first import into customers without any
interaction. A nightly feed meets a full table instead: its rows go into
indexes of 20M rows, and most of their latest times merge with times already
stored (InteractionRecency). This bench writes a CSV of ``--interactions``
interactions at random times of the day ``--day`` for customers drawn from the bench
database (``bench_recompute.py`` or ``bench_data.py`` made it; nothing is
generated here), imports it through ``customers.services.import_file`` inside
a transaction, prints the time and rolls the transaction back, so the bench
data stay as they were; it then vacuums the two tables the feeds wrote. Run it
on a database nothing else is writing.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.database import cpu_seconds, machine, prepare  # noqa: E402


def _arguments() -> argparse.Namespace:
    """The command line, read before the database is touched (``--help`` drops nothing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=400_000, help="drawn from the bench's")
    parser.add_argument("--day", default="2026-12-07", help="the feed's day (UTC)")
    parser.add_argument("--repeat", type=int, default=1, help="imports of the same file")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None

# The bench database as it is: never created again here.
prepare(keep=True)

from django.db import connection, transaction  # noqa: E402

from bench.bench_import import CHANNELS, KINDS, TOPICS  # noqa: E402
from customers.services import import_file  # noqa: E402


def write_feed(path: Path, count: int, customers: int, day: datetime) -> None:
    """``count`` interactions at random seconds of ``day``, for ``customers`` customers
    drawn from the database, each with its own external_id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT npi FROM customers_customer WHERE active ORDER BY random() LIMIT %s",
            [customers],
        )
        npis = [row[0] for row in cursor.fetchall()]
    if not npis:
        sys.exit("no customers: generate the bench data first (bench/README.md)")
    rng = random.Random(7)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["npi", "occurred_at", "channel", "kind", "topic", "asset", "external_id"])
        for i in range(count):
            moment = day + timedelta(seconds=rng.randrange(0, 86400))
            out.writerow(
                [rng.choice(npis), moment.isoformat().replace("+00:00", "Z"),
                 rng.choice(CHANNELS), rng.choice(KINDS), rng.choice(TOPICS), "",
                 f"FEED-{i}"]
            )  # fmt: skip


def main() -> None:
    args = ARGS
    if connection.vendor != "postgresql":
        sys.exit("run the bench on PostgreSQL: DATABASE_URL=postgres://app_owner:...")
    day = datetime.fromisoformat(args.day).replace(tzinfo=UTC)
    print(f"machine: {machine()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_interaction")
        print(f"interactions already there: {cursor.fetchone()[0]:,}")
    with tempfile.TemporaryDirectory(prefix="bench_feed_") as tmp:
        path = Path(tmp) / "feed.csv"
        write_feed(path, args.interactions, args.customers, day)
        for run in range(1, args.repeat + 1):
            cpu0 = cpu_seconds()
            with transaction.atomic():
                clock = time.perf_counter()
                result = import_file(kind="interactions", file=path, file_name=path.name)
                seconds = time.perf_counter() - clock
                transaction.set_rollback(True)  # the bench data stay as they were
            cpu = [b - a for a, b in zip(cpu0, cpu_seconds(), strict=True)]
            print(
                f"feed {run}: {result.rows:,} rows, {result.created:,} created, {seconds:.1f} s "
                f"({result.rows / seconds:,.0f} rows/s); CPU {cpu[0]:.1f} s Python + "
                f"{cpu[1]:.1f} s PostgreSQL; rolled back",
                flush=True,
            )
    # The rolled-back rows are dead row versions in the interactions, their indexes
    # and the latest times (2.2M after two runs of 1M), which the next bench would
    # read through until autovacuum passed: the bench leaves the tables vacuumed.
    clock = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) customers_interaction, customers_interactionrecency")
    print(f"vacuumed what the feeds left: {time.perf_counter() - clock:.1f} s")


if __name__ == "__main__":
    main()
