"""Celery tasks for discovery: load ids, call the service inside ``core.jobs.run_job``.

docs/discovery.md: with workers the API answers 202 with the job id; the job
reports progress and holds the result (``GET /api/v1/tasks/{id}/``).
"""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from accounts.models import User
from core.jobs import run_job

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
