"""With REDIS_URL and PostgreSQL: a real Celery worker syncs, fails, backs off and retries.

Run with e.g. ``DATABASE_URL=postgres://... REDIS_URL=redis://... pytest -m worker``.
The webhook fails three times, then accepts; the worker retries with
exponential backoff (base 1 s here) and the destination ends holding exactly
the members, every request carrying the same idempotency key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from activation import services, tasks
from activation.models import Sync
from tests.factories.activation import DestinationFactory
from tests.worker_support import require_worker_setup, start_worker, stop_worker, wait_for

from .support import active_version, approved_mapping, cardiologists, held_npis

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    require_worker_setup()
    # config.celery is imported only by worker tests that have Redis to talk to.
    from config.celery import app

    app.control.purge()
    proc = start_worker(
        "activation-test", ACTIVATION_RETRY_BASE_SECONDS="1", ACTIVATION_WEBHOOK_TIMEOUT="1"
    )
    yield proc
    stop_worker(proc)


def test_worker_retries_a_failing_webhook_until_it_accepts(worker, receiver, make_user):
    brand = make_user("brand")
    people = cardiologists(3)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    destination = DestinationFactory(url=receiver.url, secret="k")
    receiver.script = ["fail", "hang", "fail"]
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )  # autocommit: the first sync is queued to the worker now
    assert wait_for(
        lambda: Sync.objects.filter(publication=publication, state="delivered").exists()
    )
    sync = Sync.objects.get(publication=publication)
    assert sync.attempts == 4
    assert [r["answer"] for r in receiver.requests] == ["fail", "hang", "fail", "ok"]
    assert {r["headers"]["Idempotency-Key"] for r in receiver.requests} == {f"{publication.pk}-1"}
    (message,) = receiver.accepted()
    assert {r["npi"] for r in message["entered"]} == {c.npi for c in people}
    assert held_npis(publication) == {c.npi for c in people}


def test_beat_job_queues_due_deliveries_on_the_worker(worker, receiver, make_user):

    brand = make_user("brand")
    version = active_version(brand, customers=cardiologists(1))
    approved_mapping(version, brand)
    destination = DestinationFactory(url="http://127.0.0.1:9/closed", secret="k")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    assert wait_for(lambda: Sync.objects.filter(publication=publication, state="failed").exists())
    destination.url = receiver.url
    destination.save()
    Sync.objects.filter(publication=publication).update(next_retry_at=timezone.now())
    assert tasks.retry_due_deliveries.delay().get(timeout=30) == 1
    assert wait_for(
        lambda: Sync.objects.filter(publication=publication, state="delivered").exists()
    )
