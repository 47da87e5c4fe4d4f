"""Imports from the pages (docs/imports.md, "In the browser"): upload, check, confirm.

The upload is stored and checked by a worker (every row validated, counts of new,
changed and unchanged rows, nothing written); after the user confirms, a worker
writes it. ``ImportRun`` records each step, so the page, the history and the
status answer ``{"state", "progress", "result"?, "error"?}`` all read one row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.permissions import require
from core.errors import Conflict, DomainError, NotFound, PermissionRefused, ValidationFailed
from core.uploads import check_upload_size

from .importing.sources import check_options
from .models import ImportRun, ImportState
from .services import check_kind, import_action, import_file

S = ImportState
# The task-status vocabulary shared with the other long jobs of the API.
STATUS_STATES = {
    S.CHECKING: "running",
    S.QUEUED: "pending",
    S.RUNNING: "running",
    S.CHECKED: "succeeded",
    S.INVALID: "failed",
    S.SUCCEEDED: "succeeded",
    S.FAILED: "failed",
}
FINISHED = frozenset({S.CHECKED, S.INVALID, S.SUCCEEDED, S.FAILED})


def store_upload(
    *, kind: str, upload, user, state: str = S.CHECKING, options: dict | None = None
) -> ImportRun:
    """Keep the uploaded file where workers can read it and open its ``ImportRun``.

    ``options`` (Part D's ``data_year``) are checked now and kept for the check
    and the write.
    """
    check_kind(kind)
    require(user, import_action(kind))
    options = check_options(kind, options)
    if upload is None:
        raise ValidationFailed("choose a CSV or XLSX file", path="file")
    check_upload_size(upload)
    name = get_valid_filename(upload.name or "upload.csv")[-120:]
    path = default_storage.save(f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{name}", upload)
    return ImportRun.objects.create(
        kind=kind,
        file_name=(upload.name or name)[-255:],
        user=user,
        started_at=timezone.now(),
        state=state,
        stored_path=path,
        options=options,
    )


def _file(run: ImportRun):
    return default_storage.path(run.stored_path)


def _set(run: ImportRun, **values) -> None:
    ImportRun.objects.filter(pk=run.pk).update(**values)
    for key, value in values.items():
        setattr(run, key, value)


def check_run(*, run: ImportRun, on_rows: Callable[[int], None] | None = None) -> ImportRun:
    """Validate every row and count what the import would do; write nothing."""
    try:
        result = import_file(
            kind=run.kind,
            file=_file(run),
            file_name=run.file_name,
            user=run.user,
            dry_run=True,
            on_rows=on_rows,
            options=run.options,
        )
    except DomainError as exc:
        _set(
            run,
            state=S.INVALID,
            errors=[str(e) for e in exc.errors],
            finished_at=timezone.now(),
        )
        return run
    _set(
        run,
        state=S.CHECKED,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        skipped=result.skipped,
        report=result.report,
        errors=[],
        finished_at=timezone.now(),
    )
    return run


def confirm_run(*, run: ImportRun, user) -> ImportRun:
    """The user confirms a checked import: it is queued for writing."""
    require(user, import_action(run.kind))
    _may_see(run, user)
    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.state != S.CHECKED:
            raise Conflict(
                f"only a checked import can be confirmed; this one is {locked.state}",
                path="state",
            )
        _set(run, state=S.QUEUED, finished_at=None)
    return run


def write_run(*, run: ImportRun, on_rows: Callable[[int], None] | None = None) -> ImportRun:
    """Write a confirmed import (on a worker), all or nothing."""
    _set(run, state=S.RUNNING)
    try:
        import_file(
            kind=run.kind,
            file=_file(run),
            file_name=run.file_name,
            user=run.user,
            run=run,
            on_rows=on_rows,
            options=run.options,
        )
    except DomainError as exc:
        _set(
            run,
            state=S.FAILED,
            errors=[str(e) for e in exc.errors],
            error="; ".join(str(e) for e in exc.errors[:3]),
            finished_at=timezone.now(),
        )
        return run
    except Exception as exc:  # a worker must record the failure, whatever it is
        _set(run, state=S.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now())
        raise
    run.refresh_from_db()
    return run


def _may_see(run: ImportRun, user) -> None:
    if run.user_id != user.pk and not user.has_role("admin"):
        raise PermissionRefused("only the user who started an import, or an admin, may see it")


def run_for(*, pk: int, user) -> ImportRun:
    """The import run, if ``user`` started it or is an admin."""
    require(user, "use_imports")
    run = ImportRun.objects.filter(pk=pk).select_related("user").first()
    if run is None:
        raise NotFound(f"no import {pk}", path="id")
    _may_see(run, user)
    return run


def status(run: ImportRun, progress: float | None = None) -> dict:
    """``{"state", "progress", "result"?, "error"?}`` (the shape of every long job's status)."""
    state = STATUS_STATES.get(run.state, "pending")
    body: dict = {
        "state": state,
        "step": run.state,
        "progress": 1.0 if run.state in FINISHED else (progress or 0.0),
    }
    if run.state in (S.CHECKED, S.SUCCEEDED):
        body["result"] = {
            "kind": run.kind,
            "rows": run.rows,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "skipped": run.skipped,
            "report": run.report,
            "written": run.state == S.SUCCEEDED,
            "import_run_id": run.pk,
        }
    if run.state in (S.INVALID, S.FAILED):
        body["error"] = run.error or f"{len(run.errors)} problem(s) in the file"
        body["errors"] = run.errors
    return body
