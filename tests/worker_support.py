"""A real Celery worker process on the test database, for the ``-m worker`` tests.

The worker is a subprocess that shares the test database (PostgreSQL only:
SQLite's in-memory test database is private to this process) and the broker
named by REDIS_URL; it listens on every queue the product routes to.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
QUEUES = "celery,recompute,compliance"


def require_worker_setup() -> None:
    """Skip unless Celery talks to a broker and the database is PostgreSQL."""
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (a worker process shares the database)")


def start_worker(name: str, **extra_env: str) -> subprocess.Popen:
    """Start a solo-pool worker named ``name`` on the test database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", QUEUES,
         "--pool", "solo", "-l", "warning", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env=env,
    )  # fmt: skip


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def wait_for(predicate: Callable[[], bool], timeout: float = 90) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False
