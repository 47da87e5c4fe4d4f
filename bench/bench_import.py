"""Import benchmark (run by hand). Prints rows/s and peak memory; changes only bench data.

    DATABASE_URL=sqlite:////tmp/bench_import.sqlite3 \\
        .venv/bin/python bench/bench_import.py --customers 100000 --interactions 0
    DATABASE_URL=postgres://app:app@127.0.0.1:55432/app_bench_import \\
        .venv/bin/python bench/bench_import.py --customers 100000 --interactions 1000000
    ... bench/bench_import.py --customers 100000 --interactions 0 --rx 1000000

Generates CSV files in a temporary directory (streamed to disk, never held in
memory), migrates the configured database, then imports through the service
(``customers.services.import_file``): customers, then interactions, then each
file again (a re-import is a no-op); with ``--rx N``, N rx facts after them
(the customers' products and months in turn), whose triggers write RxYear.
For every import it prints rows/s and the process's peak RSS so far
(``resource.getrusage``); ``--small-first`` imports a
file a tenth of the size first, so the two peaks can be compared (memory must
not grow with the file). NPIs are check-digit valid and start at 3000000000,
so bench rows never collide with demo data.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.database import cpu_seconds, prepare  # noqa: E402


def _arguments() -> argparse.Namespace:
    """The command line, read before the database is touched (``--help`` drops nothing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--small-first", action="store_true")
    parser.add_argument("--no-reimport", action="store_true")
    parser.add_argument("--rx", type=int, default=0, help="also import this many rx facts")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: reuse the database")
    parser.add_argument(
        "--without-summaries",
        action="store_true",
        help="PostgreSQL: import facts without writing their summaries (their upkeep's share)",
    )
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None

# On PostgreSQL the bench's own database (bench/database.py): created again,
# or reused with --keep; SQLite files are used as they are.
prepare(
    keep=ARGS is None or ARGS.keep,
    create=os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
)

from django.db import connection  # noqa: E402

from customers.services import import_file  # noqa: E402

SPECIALTIES = ["cardiology", "oncology", "Family Medicine", "internal_medicine", "neurology"]
CHANNELS = ["email", "rep_visit", "webinar", "portal", "remote_detail"]
KINDS = ["sent", "opened", "clicked", "attended", "visited"]
TOPICS = ["", "efficacy", "safety", "dosing", "access"]


def npi(n: int) -> str:
    first9 = f"3{n:08d}"
    total = 0
    for i, ch in enumerate(reversed("80840" + first9)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return first9 + str((10 - total % 10) % 10)


def write_customers(path: Path, count: int, offset: int = 0) -> None:
    rng = random.Random(1)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["npi", "first_name", "last_name", "specialty", "state", "zip", "territory",
             "decile", "email_opt_out", "attr.adoption_stage", "attr.score"]
        )  # fmt: skip
        for i in range(offset, offset + count):
            out.writerow(
                [npi(i), "Ada", f"Doe{i}", rng.choice(SPECIALTIES), rng.choice(["NY", "CA", "TX"]),
                 f"{rng.randrange(10000, 99999)}", f"T{i % 50:02d}", rng.randint(1, 10),
                 rng.choice(["true", "false"]), rng.choice(["early", "late", ""]),
                 rng.randint(0, 100)]
            )  # fmt: skip


def write_interactions(path: Path, count: int, customers: int) -> None:
    rng = random.Random(2)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["npi", "occurred_at", "channel", "kind", "topic", "asset", "external_id"])
        npis = [npi(i) for i in range(customers)]
        for i in range(count):
            moment = start + timedelta(seconds=rng.randrange(0, 365 * 86400))
            out.writerow(
                [rng.choice(npis), moment.isoformat().replace("+00:00", "Z"),
                 rng.choice(CHANNELS), rng.choice(KINDS), rng.choice(TOPICS),
                 "", f"BENCH-{i}"]
            )  # fmt: skip


PRODUCTS = ["CARDIOZEN", "GLUCOVANT", "RENALIX", "LIPITRA", "NEUROVEX"]


def write_rx(path: Path, count: int, customers: int) -> None:
    """``count`` facts, each (customer, product, month) once: every customer's
    first product's 12 months of 2026, then the next product's, and so on."""
    rng = random.Random(3)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["npi", "month", "product", "nrx", "trx", "new_patient_starts"])
        for i in range(min(count, customers * 12 * len(PRODUCTS))):
            customer, rest = i % customers, i // customers
            month, product = rest % 12 + 1, PRODUCTS[rest // 12]
            nrx = rng.randint(0, 20)
            out.writerow(
                [npi(customer), f"2026-{month:02d}", product, nrx, nrx + rng.randint(0, 20),
                 rng.randint(0, 5)]
            )  # fmt: skip


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_import(kind: str, path: Path, label: str) -> None:
    size_mb = path.stat().st_size / 1e6
    cpu0 = cpu_seconds()
    clock = time.perf_counter()
    result = import_file(kind=kind, file=path, file_name=path.name)
    seconds = time.perf_counter() - clock
    cpu = [b - a for a, b in zip(cpu0, cpu_seconds(), strict=True)]
    print(
        f"{label:<28} {result.rows:>9,} rows {size_mb:7.1f} MB {seconds:7.1f} s "
        f"{result.rows / seconds:>10,.0f} rows/s  created {result.created:,} "
        f"updated {result.updated:,} unchanged {result.unchanged:,}  "
        f"CPU {cpu[0]:.1f} s Python + {cpu[1]:.1f} s PostgreSQL  "
        f"peak RSS {peak_rss_mb():.0f} MB; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    args = ARGS

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.without_summaries:
        from bench.bench_data import summaries_off

        summaries_off().__enter__()  # for the whole run (a bench database only)
        print("WITHOUT the summaries' upkeep (InteractionRecency, RxYear not written)")
    print(f"peak RSS after setup: {peak_rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(tmp)
        if args.small_first and args.customers >= 10:
            small = folder / "customers_small.csv"
            write_customers(small, args.customers // 10, offset=args.customers)
            timed_import("customers", small, "customers (1/10 file)")
        customers = folder / "customers.csv"
        write_customers(customers, args.customers)
        timed_import("customers", customers, "customers")
        if not args.no_reimport:
            timed_import("customers", customers, "customers again (no-op)")
        if args.interactions:
            interactions = folder / "interactions.csv"
            write_interactions(interactions, args.interactions, args.customers)
            if args.small_first:
                small = folder / "interactions_small.csv"
                write_interactions(small, args.interactions // 10, args.customers)
                # Distinct external ids so the large file still creates its rows.
                text = small.read_text().replace("BENCH-", "BENCHS-")
                small.write_text(text)
                timed_import("interactions", small, "interactions (1/10 file)")
            timed_import("interactions", interactions, "interactions")
            if not args.no_reimport:
                timed_import("interactions", interactions, "interactions again (no-op)")
        if args.rx:
            rx = folder / "rx.csv"
            write_rx(rx, args.rx, args.customers)
            timed_import("rx", rx, "rx facts")
            if not args.no_reimport:
                timed_import("rx", rx, "rx facts again (no-op)")


if __name__ == "__main__":
    main()
