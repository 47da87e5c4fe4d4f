"""Load test (run by hand, on PostgreSQL with Redis): 50 people at once during a full recompute.

    DATABASE_URL=postgres://app_owner:owner@127.0.0.1:55432/bench_load \\
    DATABASE_REPLICA_URL=postgres://app_owner:owner@127.0.0.1:55433/bench_load \\
    REDIS_URL=redis://127.0.0.1:56379/9 \\
        .venv/bin/python bench/bench_load.py --customers 1000000 --users 50 --duration 180

For each mode (the primary only; then, when ``DATABASE_REPLICA_URL`` is set,
with reads on the replica) the bench:

1. empties the 20 bench segments' memberships (so each mode's recompute is a
   full one, from empty: the heaviest the workers do);
2. starts the product as production does (gunicorn on ``config.wsgi``, DEBUG
   off) and one Celery worker started as docs/operations say
   (``celery -A config worker``), both on this database and Redis;
3. asks the workers for the nightly recompute of every active segment, and at
   the same moment starts Locust (bench/locustfile.py) with ``--users``
   simulated people: brand managers previewing rules, reviewers on review
   pages, field leads listing and exporting their territories, and one API
   client importing ``--interactions-file-rows`` interactions;
4. prints p50/p95/p99 and errors per page and endpoint, the recompute's time
   under load, and the replica's lag as ``/health/`` saw it at the end.

Data: the bench database named by ``DATABASE_URL`` (bench/database.py: its
name contains "bench"; kept across runs unless ``--fresh``), generated here
with bench_recompute.py's generator when it has fewer customers than
``--customers``. The
bench adds territories by state, the load test's users (``load-*``, one
password) and an API token; it changes nothing else.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import prepare  # noqa: E402


def _arguments() -> argparse.Namespace:
    """The command line, read before the database is touched (``--help`` drops nothing)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=180, help="seconds of load per mode")
    parser.add_argument("--interactions-file-rows", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--recompute-timeout", type=int, default=3600)
    parser.add_argument("--modes", default="primary,replica", help="primary and/or replica")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None

# The bench's own database (bench/database.py), kept across runs: the load test
# measures the data bench_recompute.py generated there (--fresh starts over).
prepare(keep=ARGS is None or not ARGS.fresh)

from cryptography.fernet import Fernet  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from accounts.models import Territory, User  # noqa: E402
from accounts.services import user_upsert  # noqa: E402
from bench.bench_data import execute, generate, setup_segments  # noqa: E402
from bench.recompute_segments import PREFIX, segments  # noqa: E402
from customers.models import Customer  # noqa: E402
from segmentation.models import MembershipSpell, RecomputeRun, SegmentVersion  # noqa: E402

PASSWORD = "load-bench-Passphrase-7"
PEOPLE = {"brand": "brand", "reviewer": "access", "field_lead": "field_lead"}
BIN = Path(sys.executable).parent


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


def ensure_segments() -> list[SegmentVersion]:
    """The 20 bench segments, active (created once; kept across runs)."""
    defs = segments()
    versions = list(
        SegmentVersion.objects.filter(
            segment__key__in=[d["key"] for d in defs], state="active"
        ).select_related("segment")
    )
    if len(versions) == len(defs):
        return versions
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "full_name": "Bench"}
    )
    setup_segments(user, defs)
    return list(
        SegmentVersion.objects.filter(
            segment__key__startswith=PREFIX, state="active"
        ).select_related("segment")
    )


def ensure_territories() -> list[str]:
    """One territory per state (``T-XX``), every customer in its state's (set-based)."""
    # order_by(): the default ordering (npi) would make DISTINCT return every customer.
    states = sorted(
        s for s in Customer.objects.order_by().values_list("state", flat=True).distinct() if s
    )
    for state in states:
        Territory.objects.get_or_create(code=f"T-{state}", defaults={"name": f"Bench {state}"})
    execute(
        "UPDATE customers_customer SET territory_id = 'T-' || state "
        "WHERE state <> '' AND territory_id IS DISTINCT FROM 'T-' || state"
    )
    return states


def ensure_people(count: int, states: list[str]) -> tuple[dict, dict, str]:
    """The simulated people (in Locust's weights), field leads each with one territory."""
    shares = {"brand": 20, "reviewer": 12, "field_lead": 15}
    total = sum(shares.values())
    users: dict[str, list[str]] = {}
    territory_of: dict[str, str] = {}
    for kind, share in shares.items():
        users[kind] = []
        for i in range(max(1, round(count * share / total))):
            name = f"load-{kind.replace('_', '-')}-{i + 1}"
            territory = [f"T-{states[i % len(states)]}"] if kind == "field_lead" else []
            user_upsert(
                username=name,
                full_name=f"Load {kind} {i + 1}",
                roles=[PEOPLE[kind]],
                territories=territory,
                password=PASSWORD,
            )
            users[kind].append(name)
            if territory:
                territory_of[name] = territory[0]
    feed = user_upsert(
        username="load-feed", full_name="Load feed", roles=["brand"], password=PASSWORD
    )
    AuthToken.objects.filter(user=feed).delete()
    _, token = AuthToken.objects.create(user=feed)
    return users, territory_of, token


def write_interactions(path: Path, rows: int, run: str) -> None:
    """``rows`` new interactions of customers drawn at random (distinct ids per run)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT npi FROM customers_customer WHERE active ORDER BY random() LIMIT %s",
            [min(rows, 50_000)],
        )
        npis = [r[0] for r in cursor.fetchall()]
    channels = ["email", "rep_visit", "webinar", "remote_detail", "portal"]
    kinds = ["sent", "opened", "clicked", "attended", "visited"]
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["npi", "occurred_at", "channel", "kind", "topic", "asset", "external_id"])
        for i in range(rows):
            out.writerow(
                [npis[i % len(npis)], f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                 channels[i % 5], kinds[(i // 5) % 5], "efficacy", "", f"LOAD-{run}-{i}"]
            )  # fmt: skip


def empty_memberships(versions: list[SegmentVersion]) -> None:
    with transaction.atomic():
        MembershipSpell.objects.filter(version__in=versions)._raw_delete(connection.alias)
    execute("VACUUM ANALYZE segmentation_membershipspell")


def wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer 200 within {seconds:.0f} s")


def health(url: str) -> dict:
    """``/health/``'s checks (a failing check answers 500 with the same JSON)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read() or b"{}")
    except OSError as exc:
        return {"unreachable": str(exc)}


def recompute_finished(versions: list[SegmentVersion], since: datetime) -> int:
    return RecomputeRun.objects.filter(
        version__in=versions, trigger="schedule", started_at__gte=since
    ).count()


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def run_mode(args, label: str, env: dict, versions, config_path: Path, out: Path) -> dict:
    if not port_free(args.port):
        # A server left over from an interrupted run would answer in place of
        # the one started here, with its own code and settings.
        sys.exit(f"port {args.port} is in use: stop what listens there or pass --port")
    empty_memberships(versions)
    port = str(args.port)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.web_workers), "--timeout", "120", "--log-level", "warning",
         "--preload"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "WARNING",
         "--concurrency", str(args.celery_concurrency)],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/accounts/login/", 600)
        from segmentation.tasks import recompute_all_segments

        since = datetime.now(UTC)
        started = time.monotonic()
        recompute_all_segments.delay()
        done_at: list[float] = []

        def watch() -> None:
            while recompute_finished(versions, since) < len(versions):
                time.sleep(1)
            done_at.append(time.monotonic() - started)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        prefix = out / label
        subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
             "--run-time", f"{args.duration}s", "--host", f"http://127.0.0.1:{port}",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env={**env, "LOAD_CONFIG": str(config_path)}, check=False,
        )  # fmt: skip
        watcher.join(timeout=args.recompute_timeout)
        return {
            "stats": read_stats(Path(f"{prefix}_stats.csv")),
            "recompute_s": done_at[0] if done_at else None,
            "health": health(f"http://127.0.0.1:{port}/health/?format=json"),
        }
    finally:
        for process in (server, worker):
            os.killpg(process.pid, signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def read_stats(path: Path) -> list[dict]:
    with path.open() as fh:
        return [
            {
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": row["50%"],
                "p95": row["95%"],
                "p99": row["99%"],
            }
            for row in csv.DictReader(fh)
        ]


def report(label: str, result: dict) -> None:
    recompute = result["recompute_s"]
    print(f"\n== {label}")
    print(
        "full recompute of the 20 segments under load: "
        + (f"{recompute:.1f} s" if recompute is not None else "not finished")
    )
    print(f"{'page or endpoint':32} {'requests':>9} {'errors':>7} {'p50':>7} {'p95':>7} {'p99':>7}")
    for row in result["stats"]:
        print(
            f"{row['name'][:32]:32} {row['requests']:9d} {row['failures']:7d} "
            f"{row['p50']:>5} ms {row['p95']:>5} ms {row['p99']:>5} ms"
        )
    print(f"/health/ at the end: {json.dumps(result['health'])}")


def main() -> None:
    args = ARGS
    # Stopped by a signal (a timeout, Ctrl-C), the bench still stops the server and
    # the worker it started (run_mode's finally), which run in sessions of their own.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        sys.exit("run the load test on PostgreSQL with Redis: set DATABASE_URL and REDIS_URL")

    have = Customer.objects.count()
    if have < args.customers:
        generate(args.customers - have, args.interactions, 0.2, datetime.now(UTC))
    versions = ensure_segments()
    states = ensure_territories()
    users, territory_of, token = ensure_people(args.users, states)
    out = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"machine: {machine()}")
    print(f"data: {Customer.objects.count():,} customers; {len(versions)} active segments")
    print(f"Locust CSV files: {out}")

    base = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-bench-" + "k" * 50),
        "AUDIT_HMAC_KEY": os.environ.get("AUDIT_HMAC_KEY", "load-bench-audit-" + "k" * 40),
        "DESTINATION_SECRET_KEY": os.environ.get(
            "DESTINATION_SECRET_KEY", Fernet.generate_key().decode()
        ),
        "LOCAL_LOGIN": "1",
    }
    modes = [m for m in args.modes.split(",") if m]
    if "replica" in modes and not os.environ.get("DATABASE_REPLICA_URL"):
        print("DATABASE_REPLICA_URL is not set: measuring the primary only")
        modes = [m for m in modes if m != "replica"]
    results = {}
    for mode in modes:
        env = dict(base)
        if mode == "primary":
            env.pop("DATABASE_REPLICA_URL", None)
        run = f"{mode}-{int(time.time())}"
        feed = out / f"interactions-{run}.csv"
        write_interactions(feed, args.interactions_file_rows, run)
        segs = [{"key": v.segment.key, "version": v.number} for v in versions]
        config = {
            "password": PASSWORD,
            "users": users,
            "territory_of": territory_of,
            "segments": segs,
            "states": states,
            "api_token": token,
            "interactions_file": str(feed),
        }
        config_path = out / f"config-{run}.json"
        config_path.write_text(json.dumps(config))
        print(f"\n-- {mode}: {args.users} people for {args.duration} s ({machine()})", flush=True)
        results[mode] = run_mode(args, mode, env, versions, config_path, out)
        report(mode, results[mode])
    print(f"\nmachine at the end: {machine()}")


if __name__ == "__main__":
    main()
