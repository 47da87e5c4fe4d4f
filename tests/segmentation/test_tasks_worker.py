"""With REDIS_URL set: a real Celery worker does the recompute work.

Run with e.g. ``REDIS_URL=redis://127.0.0.1:56379/2
DATABASE_URL=postgres://app:app@127.0.0.1:55432/app_segments pytest -m worker``.
The test starts its own worker process on the test database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from customers.signals import announce_customers_changed
from segmentation import tasks
from segmentation.models import Membership, RecomputeRun
from tests.factories import CustomerFactory, UserFactory
from tests.worker_support import require_worker_setup, start_worker, stop_worker, wait_for

from .segments_support import activate, make_segment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def worker():
    require_worker_setup()
    # config.celery is imported only by worker tests that have Redis to talk to.
    from config.celery import app

    app.control.purge()
    proc = start_worker("segments-test")
    yield proc
    stop_worker(proc)


def test_scheduled_recompute_runs_on_the_worker(worker):
    brand = UserFactory(roles=["brand"])
    CustomerFactory(decile=9)
    base = activate(make_segment(brand, "w-base", HIGH))
    child = activate(make_segment(brand, "w-child", {"segment": "w-base"}))
    tasks.recompute_all_segments.delay().get(timeout=60)
    assert wait_for(lambda: Membership.objects.filter(version__in=[base, child]).count() == 2)


def test_data_change_is_recomputed_on_the_worker(worker):
    brand = UserFactory(roles=["brand"])
    customer = CustomerFactory(decile=2)
    version = activate(make_segment(brand, "w-high", HIGH))
    customer.decile = 9
    customer.save()
    announce_customers_changed(customer_ids=[customer.pk], source="test")  # autocommit: queued now
    assert wait_for(lambda: Membership.objects.filter(version=version).exists())
    assert RecomputeRun.objects.get().trigger == "data_change"


def test_api_recompute_answers_202_with_a_task_id(worker):
    from rest_framework.test import APIClient

    brand = UserFactory(roles=["brand"])
    CustomerFactory(decile=9)
    version = make_segment(brand, "w-api", HIGH)
    client = APIClient()
    client.force_authenticate(brand)
    response = client.post("/api/v1/segments/w-api/recompute/", {}, format="json")
    assert response.status_code == 202
    assert response.json()["task_id"]
    assert wait_for(lambda: Membership.objects.filter(version=version).exists())
