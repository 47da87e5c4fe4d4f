"""Celery tasks: thin wrappers that load ids, call the service and return plain data.

Without REDIS_URL Celery runs eagerly, so the same code serves ``make demo``,
the tests and a real worker deployment.
"""

from __future__ import annotations

import logging

from celery import chain, group, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from core.jobs import run_job

from . import outbox
from .models import RecomputeTrigger, SegmentVersion
from .selectors import active_versions, dependency_levels, time_windowed_active_versions
from .services import forward_as_of, recompute_for_customers, recompute_version


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def recompute_version_task(
    version_id: int,
    as_of_iso: str | None = None,
    trigger: str = RecomputeTrigger.MANUAL,
    user_id: int | None = None,
) -> dict | None:
    """Recompute one version; a version deleted meanwhile is skipped."""
    version = SegmentVersion.objects.filter(pk=version_id).first()
    if version is None:
        return None
    as_of = parse_datetime(as_of_iso) if as_of_iso else None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return recompute_version(version=version, as_of=as_of, trigger=trigger, user=user).as_dict()


@shared_task(acks_late=True)
def recompute_job_task(
    job_id: str, version_id: int, as_of_iso: str | None = None, user_id: int | None = None
) -> dict | None:
    """A recompute the API started, as a job readable at ``GET /api/v1/tasks/{id}/``."""
    version = SegmentVersion.objects.get(pk=version_id)
    as_of = parse_datetime(as_of_iso) if as_of_iso else None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return run_job(
        job_id=job_id,
        work=lambda progress: recompute_version(
            version=version, as_of=as_of, trigger=RecomputeTrigger.MANUAL, user=user
        ).as_dict(),
    )


def _levels_signature(versions, *, as_of_iso: str | None, trigger: str):
    """A chain of groups, one group per dependency level, so workers share each level."""
    steps = [
        group(recompute_version_task.si(v.pk, as_of_iso, trigger) for v in level)
        for level in dependency_levels(versions)
    ]
    if not steps:
        return None
    return chain(*steps) if len(steps) > 1 else steps[0]


def _as_of_now() -> str:
    # One as_of for the whole run, so references see the same instant.
    return timezone.now().isoformat()


@shared_task
def recompute_all_segments() -> int:
    """Nightly: every active version, level by level in dependency order."""
    versions = active_versions()
    signature = _levels_signature(
        versions, as_of_iso=_as_of_now(), trigger=RecomputeTrigger.SCHEDULE
    )
    if signature is not None:
        signature.apply_async()
    return len(versions)


@shared_task
def recompute_time_windowed_segments() -> int:
    """Hourly: active versions whose membership moves with time (windows) and their dependents."""
    versions = time_windowed_active_versions()
    signature = _levels_signature(
        versions, as_of_iso=_as_of_now(), trigger=RecomputeTrigger.SCHEDULE
    )
    if signature is not None:
        signature.apply_async()
    return len(versions)


logger = logging.getLogger(__name__)


# ignore_result: sending must not touch the result backend (it is Redis too, and may be down).
@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3
)
def run_recompute_request(request_id: int) -> int | None:
    """One outbox request (segmentation.outbox): run at most once, then marked done."""
    return outbox.run_request(request_id=request_id)


def send_recompute_request(pk: int) -> None:
    """Hand one outbox request to the broker, failing fast when it is down (no publish retry)."""
    run_recompute_request.apply_async(args=[pk], retry=False)


@shared_task
def dispatch_recompute_requests() -> int:
    """Beat (every minute): hand pending and lost outbox requests to the workers."""
    return outbox.dispatch_requests(send=send_recompute_request)


def drain_outbox(*, reason: str) -> int:
    """Dispatch every pending outbox request now (the broker is reachable again).

    Called by config.celery when a worker's consumer (re)connects and when beat
    starts; never raises, so a database hiccup cannot stop a worker connecting.
    """
    sent = 0
    try:
        while batch := outbox.dispatch_requests(send=send_recompute_request):
            sent += batch
            if batch < outbox.DISPATCH_BATCH:
                break
    except Exception:  # noqa: BLE001 - logged; beat's minute tick dispatches again
        logger.exception("%s: pending recompute requests not dispatched", reason)
    if sent:
        logger.info("%s: %s pending recompute requests dispatched", reason, sent)
    return sent


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def recompute_customers_task(customer_ids: list[int], source: str | None = None) -> int:
    """Incremental recompute, for the customers whose data changed, of the versions it can move."""
    results = recompute_for_customers(customer_ids=customer_ids, source=source)
    return sum(1 for r in results if r.changed)


def request_recompute(*, version: SegmentVersion, user, as_of=None):
    """Recompute ``version`` now when tasks run eagerly (the result), else queue a job
    after the transaction commits (its id, as a string)."""
    from django.conf import settings  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415

    from core.jobs import start_job  # noqa: PLC0415

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return recompute_version(version=version, as_of=as_of, user=user)
    # Refused now (400, nothing queued) rather than in the worker; the task checks again.
    forward_as_of(versions=[version], as_of=as_of)
    job = start_job(kind="segment.recompute", owner=user)
    as_of_iso = as_of.isoformat() if as_of else None
    transaction.on_commit(
        lambda: recompute_job_task.delay(str(job.id), version.pk, as_of_iso, user.pk)
    )
    return str(job.id)
