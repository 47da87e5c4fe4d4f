"""Celery tasks for customer data: thin wrappers around the import service (docs/imports.md)."""

from __future__ import annotations

import logging
import uuid

from celery import current_app, shared_task
from celery.result import AsyncResult
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from accounts.models import User
from core.errors import ErrorDetail, ValidationFailed
from core.jobs import Progress, run_job

from . import import_runs
from .models import ImportRun
from .services import import_file

logger = logging.getLogger(__name__)

STEPS = {"check": import_runs.check_run, "write": import_runs.write_run}


@shared_task
def import_file_task(kind: str, path: str, file_name: str = "", user_id: int | None = None) -> dict:
    """Import a file the worker can read (e.g. a large upload saved to shared storage)."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return import_file(kind=kind, file=path, file_name=file_name or path, user=user).as_dict()


@shared_task(bind=True)
def import_step_task(self, run_id: int, step: str, job_id: str | None = None) -> dict | None:
    """Check or write one page/API import, reporting progress as rows are read.

    With ``job_id`` (an API import queued for the workers) the step runs as that
    job, so ``GET /api/v1/tasks/{id}/`` follows it like every other long job.
    """
    run = ImportRun.objects.select_related("user").get(pk=run_id)
    total = run.rows or 0

    def step_status(progress: Progress | None) -> dict:
        def report(n: int) -> None:
            if not total:
                return
            if progress is not None:
                progress(min(n / total, 0.99))
            elif not self.request.is_eager:
                self.update_state(state="PROGRESS", meta={"progress": min(n / total, 0.99)})

        done = STEPS[step](run=run, on_rows=report)
        body = import_runs.status(done)
        if progress is None:
            return body
        if "error" in body:
            problems = body.get("errors") or [body["error"]]
            raise ValidationFailed(errors=[ErrorDetail("", str(m)) for m in problems])
        # As a job, the result is the import's counts (the job carries state and progress).
        return body["result"]

    if job_id is None:
        return step_status(None)
    return run_job(job_id=job_id, work=step_status)


def queue_import_step(run: ImportRun, step: str, *, job_id: str | None = None) -> ImportRun:
    """Hand the step to the workers (or run it now when tasks run eagerly)."""
    task_id = uuid.uuid4().hex
    ImportRun.objects.filter(pk=run.pk).update(task_id=task_id)
    run.task_id = task_id
    try:
        # No publish retries: with the broker down, fail fast and let the caller decide.
        import_step_task.apply_async(args=[run.pk, step, job_id], task_id=task_id, retry=False)
    except (BrokerError, RedisError, OSError):
        if job_id is None:
            raise
        # An API import must not fail or wait because the broker is down: write it
        # now, in this process, as the same job (docs/imports.md).
        logger.warning("broker unavailable: import %s written in the request", run.pk)
        import_step_task.apply(args=[run.pk, step, job_id], task_id=task_id)
        run.refresh_from_db()
        run.written_here = True
        return run
    run.refresh_from_db()
    return run


def runs_eagerly() -> bool:
    return bool(current_app.conf.task_always_eager)


def import_status(run: ImportRun) -> dict:
    """The run's status, with the worker's progress while it runs."""
    progress = None
    if run.task_id and not runs_eagerly():
        info = AsyncResult(run.task_id).info
        if isinstance(info, dict):
            progress = info.get("progress")
    return import_runs.status(run, progress)
