"""A real ``celery -A config worker`` process runs a task against the test database.

Runs only with REDIS_URL set and a server database (the PostgreSQL CI pass);
SQLite's in-memory test database cannot be shared with another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from customers.models import Account
from tests.factories import AccountFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)


def _database_url() -> str:
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{s.get('HOST') or ''}{port}/{s['NAME']}"


@pytest.fixture
def worker_queue():
    """Start a worker on a queue of its own (so no other worker takes our task)."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: Celery runs eagerly")
    if connection.vendor != "postgresql":
        pytest.skip("the worker round trip needs a database another process can open")
    queue = f"roundtrip-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database pytest-django created
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],  # fmt: skip
        cwd=BASE_DIR,
        env=env,
    )
    try:
        yield queue
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_worker_sees_committed_data_and_its_writes_are_seen(worker_queue, tmp_path):
    from customers.tasks import import_file_task

    # Committed by the test (transaction=True): the worker must find it, since
    # the new account names it as parent and the import checks the reference.
    AccountFactory(account_id="SYS-1", account_type="health_system")
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name,account_type,parent_account_id\nH-1,City,hospital,SYS-1\n")

    result = import_file_task.apply_async(
        args=["accounts", str(path), "accounts.csv"], queue=worker_queue
    ).get(timeout=120)

    assert result["created"] == 1
    assert Account.objects.get(account_id="H-1").parent_id == "SYS-1"
