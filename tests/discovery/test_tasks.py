"""Long jobs: a job record with state and progress, readable by its owner or an admin only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.jobs import run_job, start_job
from core.models import Job, JobState
from discovery.tasks import describe_task
from tests.factories.discovery import AS_OF

from .conftest import THREE_CONDITIONS, members_of

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_owner_reads_state_progress_and_result(make_user):
    owner = make_user("brand")
    job = start_job(kind="test", owner=owner)
    run_job(job_id=job.pk, work=lambda progress: (progress(0.5), {"answer": 42})[1])
    body = _client(owner).get(f"/api/v1/tasks/{job.pk}/").json()
    assert body["state"] == "succeeded" and body["progress"] == 1.0
    assert body["result"] == {"answer": 42}


def test_pending_job_has_no_result_yet(make_user):
    owner = make_user("brand")
    job = start_job(kind="test", owner=owner)
    body = _client(owner).get(f"/api/v1/tasks/{job.pk}/").json()
    assert body["state"] == "pending" and body["progress"] == 0.0 and "result" not in body


def test_another_user_is_refused_with_403(make_user):
    job = start_job(kind="test", owner=make_user("brand"))
    response = _client(make_user("brand")).get(f"/api/v1/tasks/{job.pk}/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["path"] == "task_id"


def test_an_admin_may_read_any_job(make_user):
    job = start_job(kind="test", owner=make_user("brand"))
    response = _client(make_user("admin")).get(f"/api/v1/tasks/{job.pk}/")
    assert response.status_code == 200


def test_anonymous_is_refused(make_user):
    job = start_job(kind="test", owner=make_user("brand"))
    assert APIClient().get(f"/api/v1/tasks/{job.pk}/").status_code in (401, 403)


def test_malformed_id_is_404(make_user):
    assert _client(make_user("admin")).get("/api/v1/tasks/not-a-uuid/").status_code == 404


def test_a_refused_job_fails_with_the_message(make_user):
    from core.errors import ValidationFailed

    def work(progress):
        raise ValidationFailed("too few NPIs", path="npis")

    job = start_job(kind="test", owner=make_user("brand"))
    run_job(job_id=job.pk, work=work)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "too few NPIs" in job.error


def test_with_workers_describe_answers_202_and_the_worker_fills_the_job(
    population, client_for, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(describe_task, "delay", lambda *args: queued.append(args))
    client = client_for("brand")
    npis = members_of(THREE_CONDITIONS)[:20]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/discovery/describe/",
            {"npis": npis, "as_of": AS_OF.isoformat()},
            format="json",
        )
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert Job.objects.get(pk=task_id).state == JobState.PENDING
    describe_task(*queued[0])  # what the worker runs
    body = client.get(f"/api/v1/tasks/{task_id}/").json()
    assert body["state"] == "succeeded"
    assert body["result"]["model"]["positives"] == 20


def test_with_workers_bad_input_is_still_a_400(population, client_for, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client_for("brand").post(
        "/api/v1/discovery/describe/", {"npis": ["1"] * 3}, format="json"
    )
    assert response.status_code == 400
    assert not Job.objects.exists()
