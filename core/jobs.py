"""Helpers for long jobs: create the record, report progress, finish (docs/api.md, "Tasks").

Tasks stay thin: the API calls :func:`start_job`, queues a Celery task with
the job id, and the task wraps the service call in :func:`run_job`, which
moves the job to running, passes a progress callback to the service and
stores the result or the error. Progress is written outside any caller's
transaction (on its own row), so a reader sees it while the job runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone

from .errors import DomainError
from .models import Job, JobState

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]


def start_job(*, kind: str, owner) -> Job:
    """A new pending job of ``kind`` owned by ``owner`` (a user, or None for the system)."""
    return Job.objects.create(kind=kind, owner=owner if owner is not None else None)


def job_progress(*, job_id, progress: float) -> None:
    """Record progress (clamped to 0..1) of a running job."""
    value = min(1.0, max(0.0, float(progress)))
    Job.objects.filter(pk=job_id).update(progress=value)


def job_succeeded(*, job_id, result: Any) -> None:
    Job.objects.filter(pk=job_id).update(
        state=JobState.SUCCEEDED, progress=1.0, result=result, finished_at=timezone.now()
    )


def job_failed(*, job_id, error: str) -> None:
    Job.objects.filter(pk=job_id).update(
        state=JobState.FAILED, error=error, finished_at=timezone.now()
    )


def run_job(*, job_id, work: Callable[[Progress], Any]) -> Any:
    """Run ``work(progress)`` as job ``job_id``: running, then succeeded with its result or failed.

    A DomainError is stored as its message (the user's input was refused); any
    other exception is stored as a generic message, logged, and re-raised so
    the worker's retry and error reporting see it.
    """
    Job.objects.filter(pk=job_id).update(state=JobState.RUNNING, started_at=timezone.now())

    def progress(value: float) -> None:
        job_progress(job_id=job_id, progress=value)

    try:
        result = work(progress)
    except DomainError as exc:
        job_failed(job_id=job_id, error=str(exc))
        return None
    except Exception:
        logger.exception("job %s failed", job_id)
        job_failed(job_id=job_id, error="the job failed unexpectedly; see the worker log")
        raise
    job_succeeded(job_id=job_id, result=result)
    return result


def job_get(*, job_id) -> Job | None:
    """The job with this id, or None (also for a malformed id)."""
    try:
        return Job.objects.filter(pk=job_id).first()
    except (ValueError, TypeError, DjangoValidationError):
        return None
