"""Public-file import benchmark (run by hand): NPPES and Part D at full size (docs/sources.md).

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/app_bench_sources \\
        .venv/bin/python bench/bench_sources.py --nppes 1000000
    ... bench/bench_sources.py --nppes 9000000 --partd 25000000 --keep /big/disk

Generates files in the published layouts (the NPPES npidata_pfile with all its
330 columns, the Part D Prescribers by Provider and Drug file), streamed to
disk and never held in memory, migrates the configured database, then imports
them through the service (``customers.services.import_file``) as the command
does: NPPES, NPPES again (a re-import: every row unchanged), then Part D. For
each import it prints the time, rows/s and the process's peak RSS so far
(``resource.getrusage``); ``--small-first`` imports a file a tenth of the size
first, so the two peaks can be compared (memory must not grow with the file).

The generated NPPES file is shaped like the real one: about 80% individuals
and 20% organizations, 1% deactivated NPIs emptied as NPPES publishes them,
primary taxonomies from the shipped mapping plus unmapped codes, five US
states, 9-digit postal codes. Part D rows name the generated individuals and
one of 40 brands, 5 of them tracked.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.database import cpu_seconds  # noqa: E402
from customers.importing import layouts as L  # noqa: E402
from customers.importing.source_writers import shipped_mapping  # noqa: E402
from customers.services import import_file  # noqa: E402

STATES = ["MA", "NY", "CA", "TX", "FL"]
CREDENTIALS = ["M.D.", "MD", "D.O.", "NP", "PA-C", "PHARMD", "RN", "LCSW", "", "MD, PHD"]
UNMAPPED = ["207X00000X", "101YM0800X", "225100000X", "111N00000X"]
BRANDS = [f"BRAND{i:02d}" for i in range(35)] + [
    "CARDIOZEN",
    "LIPIDAX",
    "GLUCOR",
    "NEFRIX",
    "DERMAVEX",
]
TRACKED = BRANDS[35:]


def npi(n: int) -> str:
    """A check-digit-valid NPI; bench NPIs start at 4, apart from demo and other benches."""
    first9 = f"4{n:08d}"
    total = 0
    for i, ch in enumerate(reversed("80840" + first9)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return first9 + str((10 - total % 10) % 10)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_nppes(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    header = L.NPPES_HEADER
    at = {name: i for i, name in enumerate(header)}
    codes = list(shipped_mapping()) + UNMAPPED
    blank = ['""'] * len(header)

    def q(value: str) -> str:
        return '"' + value + '"'

    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(q(h) for h in header) + "\r\n")
        for n in range(rows):
            cells = blank.copy()
            cells[at["NPI"]] = q(npi(n))
            roll = rng.random()
            if roll < 0.01:  # deactivated: NPPES empties the record
                cells[at["NPI Deactivation Date"]] = q("03/01/2024")
                out.write(",".join(cells) + "\r\n")
                continue
            individual = roll < 0.81
            cells[at["Entity Type Code"]] = q("1" if individual else "2")
            if individual:
                cells[at["Provider Last Name (Legal Name)"]] = q(f"LAST{n % 99991}")
                cells[at["Provider First Name"]] = q(f"FIRST{n % 997}")
                cells[at["Provider Credential Text"]] = q(rng.choice(CREDENTIALS))
                cells[at["Provider Sex Code"]] = q(rng.choice("MF"))
            else:
                cells[at["Provider Organization Name (Legal Business Name)"]] = q(
                    f"ORGANIZATION {n} LLC"
                )
                cells[at["Authorized Official Last Name"]] = q("SMITH")
            state = rng.choice(STATES)
            cells[at[L.NPPES_STATE]] = q(state)
            cells[at[L.NPPES_POSTAL]] = q(
                f"{rng.randrange(1000, 99999):05d}{rng.randrange(10000):04d}"
            )
            cells[at[f"{L._PRACTICE} City Name"]] = q("SPRINGFIELD")
            cells[at["Provider First Line Business Practice Location Address"]] = q(f"{n} MAIN ST")
            cells[at["Provider Enumeration Date"]] = q("05/23/2005")
            cells[at["Last Update Date"]] = q("07/08/2021")
            taxonomies = rng.randint(1, 3)
            primary = rng.randrange(taxonomies)
            for i in range(taxonomies):
                cells[at[L.NPPES_TAXONOMY[i]]] = q(rng.choice(codes))
                cells[at[L.NPPES_PRIMARY[i]]] = q("Y" if i == primary else "N")
                cells[at[f"Provider License Number_{i + 1}"]] = q(f"L{n}")
                cells[at[f"Provider License Number State Code_{i + 1}"]] = q(state)
            out.write(",".join(cells) + "\r\n")


def write_partd(path: Path, rows: int, individuals: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(L.PARTD_HEADER) + "\r\n")
        # One prescriber's drugs are consecutive, as in the published file.
        n = 0
        written = 0
        while written < rows:
            prescriber = npi(n % max(individuals, 1))
            n += 1
            for brand in rng.sample(BRANDS, 3):
                fills = "" if rng.random() < 0.02 else f"{rng.randrange(11, 5000) / 10:.1f}"
                out.write(
                    f"{prescriber},LAST,FIRST,SPRINGFIELD,MA,25,Cardiology,S,{brand},"
                    f"generic {brand.lower()},40,{fills},1200,4321.55,,*,,,,,*,\r\n"
                )
                written += 1
                if written >= rows:
                    break


def copy_customers(individuals: int, share: int = 80) -> int:
    """Customers for ``share``% of the bench NPIs below ``individuals``, by one COPY:
    Part D alone (``--partd-only``) without the NPPES import before it."""
    now = "2026-01-01 00:00:00+00"
    columns = (
        "npi, first_name, last_name, credential, specialty, role, practice_setting, state, "
        "zip, email_opt_out, created_at, updated_at, active, taxonomy_code"
    )
    written = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY customers_customer ({columns}) FROM STDIN") as copy,
    ):
        for n in range(individuals):
            if n % 100 < share:
                copy.write_row(
                    (
                        npi(n),
                        "FIRST",
                        "LAST",
                        "MD",
                        "cardiology",
                        "",
                        "",
                        "MA",
                        "02115",
                        False,
                        now,
                        now,
                        True,
                        "207RC0000X",
                    )
                )
                written += 1
    return written


def timed_import(kind: str, path: Path, **options) -> None:
    start = time.perf_counter()
    client, server = cpu_seconds()
    result = import_file(kind=kind, file=path, file_name=path.name, options=options)
    seconds = time.perf_counter() - start
    client, server = (a - b for a, b in zip(cpu_seconds(), (client, server), strict=True))
    print(
        f"{kind} {path.name}: {result.rows} rows in {seconds:.1f} s "
        f"({result.rows / seconds:,.0f} rows/s): {result.created} created, "
        f"{result.updated} updated, {result.unchanged} unchanged, {result.skipped} skipped; "
        f"peak RSS {peak_mb():.0f} MB; CPU {client:.0f} s here + {server:.0f} s in PostgreSQL",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nppes", type=int, default=1_000_000)
    parser.add_argument("--partd", type=int, default=0)
    parser.add_argument("--small-first", action="store_true")
    parser.add_argument("--no-reimport", action="store_true")
    parser.add_argument("--keep", help="directory for the generated files (kept)")
    parser.add_argument(
        "--reimport-last",
        action="store_true",
        help="import Part D before the NPPES re-import (the re-import is then optional)",
    )
    parser.add_argument(
        "--log-sql", action="store_true", help="print each import statement's time (stderr)"
    )
    parser.add_argument(
        "--partd-only",
        action="store_true",
        help="no NPPES import: COPY customers for 80%% of the --nppes NPIs, then import Part D",
    )
    args = parser.parse_args()
    if args.log_sql:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        sql_log = logging.getLogger("customers.importing.source_writers")
        sql_log.setLevel(logging.DEBUG)
        sql_log.addHandler(handler)
        sql_log.propagate = False
    call_command("migrate", verbosity=0)
    settings.RX_TRACKED_PRODUCTS = TRACKED
    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_sources_"))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"files in {directory}; peak RSS at start {peak_mb():.0f} MB", flush=True)
    if args.small_first:
        small = directory / f"npidata_pfile_{args.nppes // 10}.csv"
        write_nppes(small, args.nppes // 10, seed=3)
        timed_import("nppes", small)
    if args.partd_only:
        start = time.perf_counter()
        with transaction.atomic():
            written = copy_customers(args.nppes)
        print(f"copied {written} customers in {time.perf_counter() - start:.0f} s", flush=True)
        partd = directory / f"partd_{args.partd}.csv"
        while not partd.exists():  # another process may still be writing it
            time.sleep(10)
        timed_import("partd", partd, data_year="2024")
        return
    path = directory / f"npidata_pfile_{args.nppes}.csv"
    if not path.exists():
        start = time.perf_counter()
        write_nppes(path, args.nppes)
        size = path.stat().st_size / 1e9
        print(f"generated {path.name}: {size:.2f} GB in {time.perf_counter() - start:.0f} s")
    timed_import("nppes", path)
    if not args.no_reimport and not args.reimport_last:
        timed_import("nppes", path)
    if args.partd:
        partd = directory / f"partd_{args.partd}.csv"
        if not partd.exists():
            start = time.perf_counter()
            write_partd(partd, args.partd, individuals=args.nppes)
            size = partd.stat().st_size / 1e9
            print(f"generated {partd.name}: {size:.2f} GB in {time.perf_counter() - start:.0f} s")
        timed_import("partd", partd, data_year="2024")
    if not args.no_reimport and args.reimport_last:
        timed_import("nppes", path)


if __name__ == "__main__":
    main()
