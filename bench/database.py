"""A bench's own PostgreSQL database: created (or reused with ``--keep``), migrated, set up.

Every bench that writes millions of rows runs on a database of its own, named
by ``DATABASE_URL`` as the owner role (``app_owner``: it may create databases;
the application's role ``app`` may not, and it may not disable triggers or
drop indexes either). ``prepare`` must run before ``django.setup()``:

- without ``keep``, the database is dropped if it exists and created again
  (only a database whose name contains "bench", so a wrong URL never drops
  the application's);
- with ``keep``, an existing database is reused as it is (its data too), and
  created when missing.

Then it sets throwaway keys (a bench serves nobody; DEBUG stays off, which
would keep every statement in memory), sets up Django and migrates.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def _keys() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("SECRET_KEY", "bench-not-a-secret")
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-not-a-secret")
    os.environ.setdefault("DESTINATION_SECRET_KEY", "YmVuY2gtZGlzY292ZXJ5LW5vdC1hLXNlY3JldC0wMDA=")


def recreate(url: str, *, keep: bool) -> str:
    """Create the database of ``url`` (dropping it first unless ``keep``); say what was done."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return f"database {name} kept"
        if exists:
            if "bench" not in name:
                sys.exit(f"refusing to drop {name}: a bench database's name contains 'bench'")
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"database {name} {'created again' if exists else 'created'}"


def drop(url: str) -> str:
    """Drop the bench database of ``url`` (only a name containing "bench"); say so."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        return f"database {name} kept: only a bench database is dropped"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    return f"database {name} dropped"


def prepare(*, keep: bool, create: bool = True) -> None:
    """Before ``django.setup()``: the bench database (see the module), Django, migrations.

    Nothing when Django is already set up: a bench imported by code that set Django up
    itself (a probe, a test) must not drop or migrate that code's database.
    """
    from django.apps import apps

    if apps.ready:
        return
    _keys()
    url = os.environ.get("DATABASE_URL", "")
    if create:
        if not url.startswith(("postgres://", "postgresql://")):
            sys.exit("run the bench on PostgreSQL: DATABASE_URL=postgres://app_owner:...")
        print(recreate(url, keep=keep), flush=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process (all threads) and by its PostgreSQL backend.

    Wall time on a shared machine says more about the neighbours than about the
    bench; CPU time does not depend on them. The backend's figure is NaN when
    the database runs on another machine.
    """
    import resource

    from django.db import connection

    usage = resource.getrusage(resource.RUSAGE_SELF)
    client = usage.ru_utime + usage.ru_stime
    server = 0.0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:  # a server on another machine
            server = float("nan")
    return client, server


def machine() -> str:
    """Cores, CPU, RAM, load average, PostgreSQL's version and memory settings, Python."""
    from django.db import connection

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) / 2**20:.0f} GB RAM, "
        f"load {os.getloadavg()[0]:.1f}; PostgreSQL {pg} "
        f"(shared_buffers {buffers}, work_mem {work_mem}); Python {platform.python_version()}"
    )


def peak_rss_mb(pid: int | None = None) -> float:
    """Peak resident memory of this process (or of ``pid``), in MB."""
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")
