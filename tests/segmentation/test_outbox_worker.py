"""Redis down during an import: the import answers success, and once Redis is
back a real worker catches the memberships up, each request done once
(docs/architecture.md, "How a customer change becomes a membership change").

Runs in the worker pass of ``.ci/run`` (PostgreSQL + REDIS_URL); it stops and
restarts the Redis server named by REDIS_URL on loopback.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from segmentation.models import Membership, RecomputeRequest
from tests.factories import CustomerFactory, UserFactory
from tests.worker_support import start_worker, stop_worker, wait_for

from .segments_support import activate, make_segment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HIGH = {"field": "decile", "op": "gte", "value": 8}


def _redis_port() -> int:
    return urlparse(settings.REDIS_URL).port or 6379


def _redis_ping(port: int) -> bool:
    result = subprocess.run(
        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=10
    )
    return result.stdout.strip() == "PONG"


def _start_redis(port: int) -> None:
    subprocess.run(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
         "--save", "", "--appendonly", "no", "--dir", "/tmp"],
        check=True, timeout=30,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _redis_ping(port):
        time.sleep(0.1)


@pytest.fixture
def redis_control():
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL")
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        pytest.skip("needs redis-server and redis-cli on this machine")
    port = _redis_port()
    yield port
    if not _redis_ping(port):
        _start_redis(port)


def test_import_with_redis_down_succeeds_and_memberships_catch_up(redis_control):
    port = redis_control
    brand = UserFactory(roles=["brand"])
    admin = UserFactory(roles=["admin"])
    customer = CustomerFactory(decile=2)
    version = activate(make_segment(brand, "outbox-high", HIGH))

    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], timeout=10)
    assert wait_for(lambda: not _redis_ping(port), timeout=10)

    client = APIClient()
    client.force_authenticate(admin)
    body = (
        "npi,first_name,last_name,specialty,decile\n"
        f"{customer.npi},Ada,King,{customer.specialty},9\n"
    )
    upload = io.BytesIO(body.encode())
    upload.name = "customers.csv"
    started = time.monotonic()
    response = client.post("/api/v1/imports/", {"kind": "customers", "file": upload})
    took = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert took < 15, f"the import waited {took:.1f} s for the broker"
    request = RecomputeRequest.objects.get()
    assert request.done_at is None
    assert not Membership.objects.filter(version=version).exists()

    _start_redis(port)
    worker = start_worker("outbox-test")  # a worker start dispatches what is pending
    try:
        assert wait_for(lambda: Membership.objects.filter(version=version).exists())
        assert wait_for(lambda: RecomputeRequest.objects.get().done_at is not None)
    finally:
        stop_worker(worker)
    request.refresh_from_db()
    assert request.attempts == 1
    assert Membership.objects.filter(version=version, customer=customer).count() == 1
