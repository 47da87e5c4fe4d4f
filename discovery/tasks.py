"""Celery tasks for discovery: load ids, call the service inside ``core.jobs.run_job``.

docs/discovery.md: with workers the API answers 202 with the job id; the job
reports progress and holds the result (``GET /api/v1/tasks/{id}/``).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils.dateparse import parse_datetime

from accounts.models import User
from core.jobs import run_job, start_job
from core.models import Job

from . import services


def _as_of(params: dict) -> dict:
    params = dict(params)
    if params.get("as_of"):
        params["as_of"] = parse_datetime(params["as_of"])
    return params


@shared_task(acks_late=True)
def describe_task(job_id: str, user_id: int, params: dict) -> dict | None:
    user = User.objects.get(pk=user_id)
    return run_job(
        job_id=job_id,
        work=lambda progress: (
            services.describe_list(user=user, progress=progress, **_as_of(params)).result
        ),
    )


@shared_task(acks_late=True)
def personas_task(job_id: str, user_id: int, params: dict) -> dict | None:
    user = User.objects.get(pk=user_id)
    return run_job(
        job_id=job_id,
        work=lambda progress: (
            services.find_personas(user=user, progress=progress, **_as_of(params)).result
        ),
    )


DESCRIBE_KIND, PERSONAS_KIND = "discovery.describe", "discovery.personas"


def queue_describe(*, user: User, params: dict[str, Any]) -> Job:
    """Check a describe request as the service will, then queue it as a job.

    Bad input is refused here (400) before anything is queued; the API and the
    pages both call this when workers run (docs/discovery.md, "Tasks").
    """
    services.check_describe(
        user=user,
        npis=params.get("npis"),
        parent=params.get("parent"),
        max_conditions=params.get("max_conditions"),
        ignore_unknown=params.get("ignore_unknown"),
    )
    return _queue(kind=DESCRIBE_KIND, task=describe_task, user=user, params=params)


def queue_personas(*, user: User, params: dict[str, Any]) -> Job:
    """Check a personas request as the service will, then queue it as a job."""
    services.check_personas(
        user=user, k=params.get("k"), parent=params.get("parent"), families=params.get("families")
    )
    return _queue(kind=PERSONAS_KIND, task=personas_task, user=user, params=params)


def _queue(*, kind: str, task, user: User, params: dict[str, Any]) -> Job:
    job = start_job(kind=kind, owner=user)
    params = dict(params)
    if params.get("as_of") is not None:
        params["as_of"] = params["as_of"].isoformat()
    # On commit: the worker must find the job row.
    transaction.on_commit(lambda: task.delay(str(job.id), user.pk, params))
    return job
