"""Customer data writes: file imports and recorded interactions (docs/imports.md).

Both go through ``customers.importing.engine.run_import``, so a row posted to
the API is checked by exactly the rules a row in a file is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import require
from audit.services import record_event
from core.errors import Conflict, ErrorDetail, ValidationFailed
from core.uploads import check_upload_size

from .importing.engine import Outcome, run_import
from .importing.kinds import INTERACTIONS, KINDS
from .importing.readers import open_table
from .importing.registry import registered, registered_kinds
from .importing.source_writers import run_source
from .importing.sources import SOURCE_KINDS, check_options, open_source
from .models import ImportRun, ImportState
from .signals import announce_accounts_changed, announce_customers_changed


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``unchanged`` rows matched existing records exactly."""

    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    duration_ms: int
    import_run_id: int | None = None
    # Rows read but not written, and why ({"reason": rows}); ``report`` also
    # holds other counts (docs/sources.md, "The report").
    skipped: int = 0
    report: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        line = (
            f"imported {self.rows} {self.kind} rows: {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.skipped or self.report:
            line += f", {self.skipped} skipped"
        lines = [f"{line} in {self.duration_ms} ms"]
        for title, counts in self.report.items():
            lines += [f"  {title}: {n} {what}" for what, n in counts.items()]
        return "\n".join(lines)


def all_kinds() -> list[str]:
    """Built-in kinds, the public files' (docs/sources.md), then kinds registered by
    higher apps (``importing.registry``)."""
    return [*KINDS, *SOURCE_KINDS, *registered_kinds()]


def import_action(kind: str) -> str:
    """The permission importing ``kind`` needs: ``import_data``, or the registered kind's."""
    importer = registered(kind)
    return importer.action if importer is not None else "import_data"


def check_kind(kind: str) -> None:
    if kind not in all_kinds():
        raise ValidationFailed(
            f"'{kind}' is not one of: {', '.join(all_kinds())}", path="kind", code="invalid"
        )


def _counting(rows: Iterator, on_rows: Callable[[int], None], every: int = 5000) -> Iterator:
    """The rows, calling ``on_rows(n)`` every ``every`` rows read (for a progress bar)."""
    n = 0
    for row in rows:
        n += 1
        if n % every == 0:
            on_rows(n)
        yield row


def _run_kind(kind: str, *, header, rows, now, user, options=None):
    if kind in SOURCE_KINDS:
        return run_source(kind=kind, header=header, rows=rows, now=now, options=options)
    importer = registered(kind)
    if importer is None:
        return run_import(kind=KINDS[kind], header=header, rows=rows, now=now)
    return importer.run(header=header, rows=rows, user=user, now=now)


def import_file(
    *,
    kind: str,
    file: Any,
    file_name: str = "",
    user=None,
    dry_run: bool = False,
    run: ImportRun | None = None,
    on_rows: Callable[[int], None] | None = None,
    options: dict[str, Any] | None = None,
) -> ImportResult:
    """Import one CSV or XLSX file of ``kind`` all-or-nothing (docs/imports.md).

    ``file`` is a path, a binary file object or a Django uploaded file. ``user``
    None means the system (the management command); a user must be allowed to
    ``import_data``. Raises ValidationFailed listing ``row N: column`` problems
    (at most 1,000); nothing is written then. ``dry_run`` checks every row and
    counts what would be created, changed and left unchanged, then rolls back
    (the pages' check step). ``run`` is the page import's row to complete (else
    one is created); ``on_rows(n)`` is called as rows are read. ``options`` are
    what a file does not say itself (Part D's ``data_year``, docs/sources.md).
    """
    check_kind(kind)
    options = check_options(kind, options)
    if user is not None:
        require(user, import_action(kind))
    check_upload_size(file)
    name = file_name or str(getattr(file, "name", "") or file)
    started_at = timezone.now()
    clock = time.perf_counter()
    if kind in SOURCE_KINDS:
        source = open_source(file, name)
        header, rows, close = source.header, source.rows, source.close
    else:
        table, owned = open_table(file, name)
        header, rows = table.header, table.rows
        close = owned.close if owned is not None else (lambda: None)
    rows = rows if on_rows is None else _counting(rows, on_rows)
    try:
        with _concurrent_writes_refused(), transaction.atomic():
            outcome = _run_kind(
                kind, header=header, rows=rows, now=started_at, user=user, options=options
            )
            duration_ms = int((time.perf_counter() - clock) * 1000)
            if dry_run:
                transaction.set_rollback(True)
                return _result(kind, outcome, duration_ms)
            values = {
                "kind": kind,
                "file_name": name[-255:],
                "rows": outcome.rows,
                "created": outcome.created,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "skipped": getattr(outcome, "skipped", 0),
                "report": _report(outcome),
                "options": options,
                "user": user if getattr(user, "pk", None) else None,
                "duration_ms": duration_ms,
                "state": ImportState.SUCCEEDED,
                "finished_at": timezone.now(),
            }
            if run is None:
                run = ImportRun.objects.create(started_at=started_at, **values)
            else:
                ImportRun.objects.filter(pk=run.pk).update(**values)
            result = _result(kind, outcome, duration_ms, run.pk)
            record_event(
                actor=user,
                action="data.imported",
                object_type="import_run",
                object_id=run.pk,
                after={"file_name": run.file_name, **result.as_dict()},
            )
            _notify(outcome, source=f"import:{kind}")
    finally:
        close()
    return result


def record_interactions(*, data: Any, user) -> ImportResult:
    """Record one interaction (an object) or several (a list), all-or-nothing.

    Every value is checked by the interactions import's rules; error paths are
    ``field`` for one object and ``[i].field`` for a list.
    """
    require(user, "record_interactions")
    many = isinstance(data, list)
    items = data if many else [data]

    def path(index: int, column: str) -> str:
        return f"[{index}].{column}" if many else column

    problems: list[ErrorDetail] = []
    if not items:
        raise ValidationFailed("send at least one interaction", path="")
    names: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(ErrorDetail(f"[{index}]" if many else "", "must be an object"))
            continue
        for key in item:
            if key not in INTERACTIONS.by_name:
                problems.append(ErrorDetail(path(index, str(key)), "unknown field"))
            elif key not in names:
                names.append(key)
    if problems:
        raise ValidationFailed(errors=problems[:1000])
    # Required fields are always columns, so a missing one is "is required" on
    # that item; optional fields no item mentions are left untouched.
    header = [c.name for c in INTERACTIONS.columns if c.required or c.name in names]
    rows = []
    for index, item in enumerate(items):
        cells = []
        for name in header:
            cell, problem = _cell(item.get(name))
            if problem:
                problems.append(ErrorDetail(path(index, name), problem))
            cells.append(cell)
        rows.append((index, cells))
    if problems:
        raise ValidationFailed(errors=problems[:1000])
    clock = time.perf_counter()
    with _concurrent_writes_refused(), transaction.atomic():
        outcome = run_import(
            kind=INTERACTIONS,
            header=header,
            rows=iter(rows),
            now=timezone.now(),
            path=path,
            skip_blank_rows=False,
            row_label=lambda index: f"[{index}]",
        )
        result = _result("interactions", outcome, int((time.perf_counter() - clock) * 1000))
        record_event(
            actor=user,
            action="interactions.recorded",
            object_type="interactions",
            object_id="api",
            after=result.as_dict(),
        )
        _notify(outcome, source="api:interactions")
    return result


@contextmanager
def _concurrent_writes_refused() -> Iterator[None]:
    """A unique-key clash with a concurrent writer is a 400 to retry, never a 500."""
    try:
        yield
    except IntegrityError:
        raise Conflict(
            "another change to the same records was saved at the same time; "
            "nothing was imported, please retry",
            path="",
        ) from None


def _cell(value: Any) -> tuple[str, str]:
    """A JSON value as the text a file cell would hold, or a problem."""
    if value is None:
        return "", ""
    if isinstance(value, bool):
        return ("true" if value else "false"), ""
    if isinstance(value, (str, int, float)):
        return str(value).strip(), ""
    return "", "must be a string"


def _report(outcome: Outcome) -> dict[str, dict[str, int]]:
    """Skipped rows by reason and other counts (public files, docs/sources.md); else {}."""
    report = {}
    if getattr(outcome, "reasons", None):
        report["skipped"] = dict(outcome.reasons)
    if getattr(outcome, "notes", None):
        report["notes"] = dict(outcome.notes)
    return report


def _result(kind: str, outcome: Outcome, duration_ms: int, run_id: int | None = None):
    return ImportResult(
        kind=kind,
        rows=outcome.rows,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        duration_ms=duration_ms,
        import_run_id=run_id,
        skipped=getattr(outcome, "skipped", 0),
        report=_report(outcome),
    )


def _notify(outcome: Outcome, *, source: str) -> None:
    """Announce which customers changed, so only their memberships recompute.

    A public file's import announces them page by page (millions after an
    NPPES import), so memory stays flat. An accounts import also announces the
    accounts (an account without customers may enter or leave an account segment).
    """
    pages = getattr(outcome, "changed_pages", None)
    if pages is not None:
        for ids in pages():
            announce_customers_changed(customer_ids=ids, source=source)
        return
    announce_customers_changed(customer_ids=outcome.customer_ids, source=source)
    if source == "import:accounts" and (outcome.created or outcome.updated):
        announce_accounts_changed(source=source)
