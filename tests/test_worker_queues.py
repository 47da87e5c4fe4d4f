"""A plain ``celery -A config worker`` (no -Q) does every kind of work, and the
recompute outbox is drained as soon as the broker is reachable again
(docs/architecture.md "Processes", docs/governance.md "Operations")."""

from __future__ import annotations

import pytest
from celery.signals import beat_init
from django.conf import settings

from config.celery import DrainOutboxOnConnect, app
from segmentation.models import RecomputeRequest
from tests.factories import CustomerFactory, UserFactory
from tests.segmentation.segments_support import activate, make_segment
from tests.worker_support import require_worker_setup, start_worker, stop_worker


def test_a_worker_without_q_consumes_every_routed_queue():
    consumed = set(app.amqp.queues)  # what a worker without -Q listens to
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed


def test_the_consumer_drains_the_outbox_on_every_broker_connection():
    assert DrainOutboxOnConnect in app.steps["consumer"]


@pytest.mark.django_db
def test_connecting_drains_pending_requests():
    customer = CustomerFactory()
    request = RecomputeRequest.objects.create(customer_ids=[customer.pk], source="test")
    DrainOutboxOnConnect(parent=None).start(parent=None)  # eager: the request runs at once
    request.refresh_from_db()
    assert request.done_at is not None


@pytest.mark.django_db
def test_beat_start_drains_pending_requests():
    customer = CustomerFactory()
    request = RecomputeRequest.objects.create(customer_ids=[customer.pk], source="test")
    beat_init.send(sender=None)
    request.refresh_from_db()
    assert request.done_at is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_plain_worker_does_recompute_and_compliance_tasks():
    require_worker_setup()
    from content.tasks import expire_assets
    from segmentation.tasks import recompute_version_task

    app.control.purge()
    CustomerFactory(decile=9)
    version = activate(
        make_segment(
            UserFactory(roles=["brand"]),
            "plain-worker",
            {"field": "decile", "op": "gte", "value": 8},
        )
    )
    proc = start_worker("plain-test")  # no -Q
    try:
        result = recompute_version_task.delay(version.pk).get(timeout=90)
        assert result["entered"] == 1
        assert expire_assets.delay().get(timeout=90) == []
    finally:
        stop_worker(proc)


def test_each_declared_queue_receives_only_its_own_routing_key():
    keys = {name: (q.exchange.name, q.routing_key) for name, q in app.amqp.queues.items()}
    assert len(set(keys.values())) == len(keys), keys
