"""With REDIS_URL set: a real Celery worker does the recompute work.

Run with e.g. ``REDIS_URL=redis://127.0.0.1:56379/2
DATABASE_URL=postgres://app:app@127.0.0.1:55432/app_segments pytest -m worker``.
The test starts its own worker process on the test database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from customers.signals import announce_customers_changed
from segmentation import tasks
from segmentation.models import Membership, RecomputeRun
from tests.factories import CustomerFactory, UserFactory

from .segments_support import activate, make_segment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def worker():
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (a worker process shares the database)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }
    from config.celery import app

    app.control.purge()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "celery,recompute,compliance",
            "--pool",
            "solo",
            "-l",
            "warning",
            "-n",
            f"segments-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def wait_for(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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
