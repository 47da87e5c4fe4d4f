"""Redis down during an import: the import answers success, and once Redis is
back a real worker catches the memberships up, each request done once
(docs/architecture.md, "How a customer change becomes a membership change").

Runs in the worker pass of ``.ci/run`` (PostgreSQL + REDIS_URL). Each test
stops and restarts a Redis server of its own (``private_redis``, a spare
loopback port), never the shared one named by REDIS_URL.
"""

from __future__ import annotations

import io
import time

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from segmentation.models import Membership, RecomputeRequest
from segmentation.services import recompute_version
from tests.factories import CustomerFactory, UserFactory
from tests.worker_support import (
    private_redis,
    start_redis,
    start_worker,
    stop_redis,
    stop_worker,
    use_broker,
    wait_for,
    wait_for_any_worker,
)

from .segments_support import activate, make_segment, member_npis

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def broker():
    """A private Redis on a spare port, this process publishing to it: yields its port."""
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL")
    with private_redis() as port, use_broker(f"redis://127.0.0.1:{port}/0"):
        yield port


def _import_deciles(rows: list[tuple]) -> None:
    client = APIClient()
    client.force_authenticate(UserFactory(roles=["admin"]))
    body = "npi,first_name,last_name,specialty,decile\n" + "".join(
        f"{c.npi},Ada,King,{c.specialty},{decile}\n" for c, decile in rows
    )
    upload = io.BytesIO(body.encode())
    upload.name = "customers.csv"
    started = time.monotonic()
    response = client.post("/api/v1/imports/", {"kind": "customers", "file": upload})
    took = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert took < 15, f"the import waited {took:.1f} s for the broker"


def test_import_with_redis_down_succeeds_and_a_starting_worker_catches_up(broker):
    port = broker
    customer = CustomerFactory(decile=2)
    version = activate(make_segment(UserFactory(roles=["brand"]), "outbox-high", HIGH))

    stop_redis(port)
    _import_deciles([(customer, 9)])
    request = RecomputeRequest.objects.get()
    assert request.done_at is None
    assert not Membership.objects.filter(version=version).exists()

    start_redis(port)
    worker = start_worker("outbox-test", REDIS_URL=f"redis://127.0.0.1:{port}/0")
    try:
        assert wait_for(lambda: RecomputeRequest.objects.get().done_at is not None)
    finally:
        stop_worker(worker)
    request.refresh_from_db()
    assert request.attempts == 1
    assert Membership.objects.filter(version=version, customer=customer).count() == 1


def test_a_running_plain_worker_recovers_a_redis_outage_during_an_import(broker):
    """The worker stays up through the outage; no beat runs. Within two minutes of
    Redis returning, no membership is stale: its reconnection drains the outbox."""
    port = broker
    staying, leaving, joining = (CustomerFactory(decile=d) for d in (9, 9, 2))
    version = activate(make_segment(UserFactory(roles=["brand"]), "outbox-outage", HIGH))
    recompute_version(version=version)
    assert member_npis(version) == {staying.npi, leaving.npi}

    worker = start_worker("outage-test", REDIS_URL=f"redis://127.0.0.1:{port}/0")
    try:
        assert wait_for_any_worker(), "the worker did not start"  # consuming before the outage
        stop_redis(port)
        _import_deciles([(leaving, 1), (joining, 10)])
        assert RecomputeRequest.objects.filter(done_at=None).count() == 1
        assert member_npis(version) == {staying.npi, leaving.npi}  # stale for now

        start_redis(port)
        returned = time.monotonic()
        assert wait_for(
            lambda: not RecomputeRequest.objects.filter(done_at=None).exists(), timeout=120
        ), "the outbox was not drained within two minutes of Redis returning"
        took = time.monotonic() - returned
    finally:
        stop_worker(worker)
    assert member_npis(version) == {staying.npi, joining.npi}
    assert took < 120
    print(f"memberships current {took:.1f} s after Redis returned")
