"""A recompute the API queues is a job readable at GET /api/v1/tasks/{id}/."""

from __future__ import annotations

import pytest

from segmentation import tasks
from tests.governance.support import draft

pytestmark = pytest.mark.django_db


def test_queued_recompute_is_a_job_with_its_result(
    client_for, make_user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(tasks.recompute_job_task, "delay", lambda *args: queued.append(args))
    client = client_for("brand")
    draft(make_user("brand"), "cardio")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/segments/cardio/recompute/", {}, format="json")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert client.get(f"/api/v1/tasks/{task_id}/").json()["state"] == "pending"
    tasks.recompute_job_task(*queued[0])  # what the worker runs
    body = client.get(f"/api/v1/tasks/{task_id}/").json()
    assert body["state"] == "succeeded" and "member_count" in body["result"]
