"""A real Celery worker process on the test database, for the ``-m worker`` tests.

The worker is a subprocess that shares the test database (PostgreSQL only:
SQLite's in-memory test database is private to this process) and the broker
named by REDIS_URL. It is started as the product documents it, a plain
``celery -A config worker`` without ``-Q``: the settings declare every queue
the product routes to, so it listens to all of them.

``private_redis`` starts a Redis server of the test's own on a spare loopback
port (56390 and up) and ``use_broker`` points this process's Celery app at it,
so a test may stop and restart its broker without touching the shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools

ROOT = Path(__file__).resolve().parent.parent
PRIVATE_REDIS_PORTS = range(56390, 56430)


def require_worker_setup() -> None:
    """Skip unless Celery talks to a broker and the database is PostgreSQL."""
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (a worker process shares the database)")


def start_worker(name: str, *, queues: str | None = None, **extra_env: str) -> subprocess.Popen:
    """Start a solo-pool worker named ``name`` on the test database.

    Without ``queues`` it is a plain worker (no ``-Q``), as docs/architecture.md names it.
    """
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker",
         *(["-Q", queues] if queues else []),
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


def wait_for_any_worker(timeout: float = 180) -> bool:
    """True once a worker answers a ping through the broker this process publishes to."""
    from config.celery import app

    return wait_for(lambda: bool(app.control.ping(timeout=1)), timeout=timeout)


def redis_ping(port: int) -> bool:
    result = subprocess.run(
        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=10
    )
    return result.stdout.strip() == "PONG"


def start_redis(port: int) -> None:
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
         "--save", "", "--appendonly", "no", "--dir", "/tmp"],
        check=True, timeout=30,
    )  # fmt: skip
    if not wait_for(lambda: redis_ping(port), timeout=20):
        raise RuntimeError(f"redis-server on port {port} did not answer")


def stop_redis(port: int) -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], timeout=10)
    if not wait_for(lambda: not redis_ping(port), timeout=10):
        raise RuntimeError(f"redis-server on port {port} did not stop")


def _free_port() -> int:
    for port in PRIVATE_REDIS_PORTS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for a private redis-server")


@contextmanager
def private_redis() -> Iterator[int]:
    """A redis-server of this test's own on a spare loopback port; stopped afterwards."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("needs redis-server and redis-cli on this machine")
    port = _free_port()
    start_redis(port)
    try:
        yield port
    finally:
        if redis_ping(port):
            stop_redis(port)


def _reset_broker_pools(app) -> None:
    # kombu keeps connection and producer pools per broker URL; start from none.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def use_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (publishing) at ``url`` for the block."""
    from config.celery import app

    old = app.conf.broker_url
    _reset_broker_pools(app)
    app.conf.broker_url = url
    try:
        yield
    finally:
        _reset_broker_pools(app)
        app.conf.broker_url = old
