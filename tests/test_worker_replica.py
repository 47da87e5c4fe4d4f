"""With a replica configured, a real worker's recompute is what the replica's readers see
(docs/scaling.md, "Step 2").

The worker is a plain ``celery -A config worker`` whose settings name the hot
standby (``DATABASE_REPLICA_URL``), as a deployment with a replica starts it.
The recompute writes on the primary; the members list, a replica-eligible
read, then answers from the standby with exactly the primary's members.
"""

from __future__ import annotations

import time

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.celery import app
from segmentation.models import Membership
from tests.factories import CustomerFactory
from tests.segmentation.segments_support import activate, make_segment
from tests.worker_support import require_worker_setup, start_worker, stop_worker

pytestmark = [
    pytest.mark.worker,
    pytest.mark.replica,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def _url(settings_dict: dict) -> str:
    s = settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _standby_count(standby, version_id: int) -> int:
    with standby.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM segmentation_membership WHERE version_id = %s", [version_id]
        )
        return cursor.fetchone()[0]


def test_members_read_on_the_replica_equal_the_workers_recompute(standby, client, make_user):
    require_worker_setup()
    from segmentation.tasks import recompute_version_task

    app.control.purge()
    for decile in (3, 7, 8, 9, 10):
        CustomerFactory(decile=decile)
    brand = make_user("brand")
    version = activate(
        make_segment(brand, "replica-members", {"field": "decile", "op": "gte", "value": 8})
    )
    # The worker's settings name the standby's copy of the test database.
    proc = start_worker("replica-test", DATABASE_REPLICA_URL=_url(standby.settings_dict))
    try:
        recompute_version_task.delay(version.pk).get(timeout=120)
    finally:
        stop_worker(proc)

    on_primary = set(
        Membership.objects.using("default")
        .filter(version=version)
        .values_list("customer__npi", flat=True)
    )
    assert len(on_primary) == 3
    deadline = time.monotonic() + 30
    while _standby_count(standby, version.pk) != len(on_primary):
        assert time.monotonic() < deadline, "the standby did not replay the recompute in 30 s"
        time.sleep(0.1)

    client.force_login(brand)
    with CaptureQueriesContext(standby) as on_replica:
        response = client.get(reverse("api-segment-members", args=["replica-members"]))
    assert response.status_code == 200, response.content
    assert {row["npi"] for row in response.json()["results"]} == on_primary
    assert any("segmentation_membership" in q["sql"] for q in on_replica.captured_queries)
