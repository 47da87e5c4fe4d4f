"""Recompute orchestration: which versions, in which order, one transaction each.

* A recompute that changes no membership writes nothing at all, not even the
  version's ``last_recomputed_at``: "changes nothing and records nothing"
  (docs/rules.md).
* A recompute that changes something announces ``membership_changed`` once
  its transaction commits (``segmentation.signals``), for higher floors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.permissions import require
from audit.services import record_event
from core.errors import ValidationFailed
from core.time import check_in_range, iso_z

from .. import selectors
from ..models import (
    Membership,
    RecomputeRun,
    RecomputeTrigger,
    SegmentVersion,
    Unit,
)
from ..rules.shared import SharedAggregates
from ..signals import membership_changed
from ..units import unit_of
from .membership import (
    analyse_spells,
    drop_differences,
    drop_scope,
    materialise_differences,
    ruled_out_exit_split,
    scoped_differences,
    target_query,
    without_jit,
    write_differences,
    write_first_members,
    write_scope,
    write_scoped_differences,
)

logger = logging.getLogger(__name__)

# How far ahead of now an as_of may be (docs/rules.md, "History only moves forward").
AHEAD_LIMIT = timedelta(days=1)

# --- as_of: history only moves forward ------------------------------------------


def check_not_ahead(*, as_of: datetime) -> datetime:
    """``as_of`` in UTC, refused (naming ``as_of``) outside the accepted dates or more
    than one day ahead of now."""
    as_of = check_in_range(as_of, path="as_of")
    now = timezone.now()
    if as_of > now + AHEAD_LIMIT:
        raise ValidationFailed(
            f"{iso_z(as_of)} is more than one day ahead of now ({iso_z(now)})", path="as_of"
        )
    return as_of


def latest_run_as_of(version: SegmentVersion) -> datetime | None:
    """The as_of of the version's latest recompute run (the end of its history), if any."""
    return RecomputeRun.objects.filter(version_id=version.pk).aggregate(m=Max("as_of"))["m"]


def forward_as_of(
    *, versions: Iterable[SegmentVersion], as_of: datetime | None, refuse: bool = True
) -> datetime:
    """The as_of a recompute of ``versions`` runs at: membership history only moves forward.

    A given ``as_of`` more than one day ahead of now, or before the as_of of a
    version's latest run, is refused (ValidationFailed naming ``as_of``): such a
    recompute would rewrite the past (a past date is a backtest,
    ``backtest.backtest_version``). Without one: now, or the latest run's as_of
    when a run was dated ahead of now. ``refuse=False`` (the workers' scheduled
    and automatic runs, which pick "now" themselves) moves an as_of before the
    latest run forward to it instead of refusing. Every recompute entry point
    (API, page, command, tasks) goes through here.
    """
    versions = list(versions)
    latest = [m for m in (latest_run_as_of(v) for v in versions) if m is not None]
    if as_of is None:
        return max([timezone.now(), *latest])
    as_of = check_not_ahead(as_of=as_of)
    if not refuse:
        return max([as_of, *latest])
    for version, last in ((v, latest_run_as_of(v)) for v in versions):
        if last is not None and as_of < last:
            raise ValidationFailed(
                f"{iso_z(as_of)} is before the latest recompute of segment "
                f"'{version.segment.key}' version {version.number} (as of {iso_z(last)}); "
                "membership history only moves forward: backtest a past date instead",
                path="as_of",
            )
    return as_of


def _asked(trigger: str) -> bool:
    """Whether someone asked for this as_of (refused if backwards) rather than a worker's clock."""
    return trigger == RecomputeTrigger.MANUAL


# --- recompute ------------------------------------------------------------------


@dataclass
class RecomputeResult:
    """What one recompute of one version did. ``run_id`` is None when nothing changed."""

    segment: str
    version: int
    version_id: int
    as_of: datetime
    entered: int
    exited: int
    member_count: int
    duration_ms: int
    trigger: str
    run_id: int | None = None
    scope_size: int | None = None
    changed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.changed = bool(self.entered or self.exited)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = iso_z(self.as_of)
        return data


def recompute_version(
    *,
    version: SegmentVersion,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.MANUAL,
    user=None,
    customer_ids: Iterable[int] | None = None,
) -> RecomputeResult:
    """Recompute one version's membership at ``as_of`` (default now, UTC), in one transaction.

    Only the differences are written: history rows (entry/exit) for every
    customer who entered or left, then the membership rows. When nothing
    changes, nothing is written at all: no run, no history, no audit event.
    ``customer_ids`` restricts the evaluation to those customers (incremental
    run after a data change); members outside it are left as they are.
    Concurrent recomputes of one version are serialised by locking its row.
    ``user`` is None for workers; when given, the user must be allowed to recompute.
    """
    if user is not None:
        require(user, "recompute_segment")
    if customer_ids is not None:
        as_of = forward_as_of(versions=[version], as_of=as_of, refuse=_asked(trigger))
        results = _recompute_scoped(
            [version], customer_ids=customer_ids, as_of=as_of, trigger=trigger, user=user
        )
        return (
            results[0] if results else _unchanged(version, as_of, trigger, time.perf_counter(), [])
        )
    with transaction.atomic():
        without_jit()
        version = _locked([version])[0]
        # Under the version's lock.
        as_of = forward_as_of(versions=[version], as_of=as_of, refuse=_asked(trigger))
        return _recompute_locked(version, as_of=as_of, trigger=trigger, user=user)


def _recompute_locked(
    version: SegmentVersion,
    *,
    as_of: datetime,
    trigger: str,
    user,
    shared: SharedAggregates | None = None,
) -> RecomputeResult:
    """A full recompute of a version whose row the caller's transaction has locked."""
    started_at = timezone.now()
    t0 = time.perf_counter()
    has_members = _has_members(version)
    split = (
        ruled_out_exit_split(version=version, as_of=as_of, shared=shared) if has_members else None
    )
    if split is not None:
        target, leaving = split
    else:
        leaving = None
        target = target_query(
            version=version,
            as_of=as_of,
            scope=None,
            scope_sql=None,
            shared=shared,
            has_members=has_members,
        )
    if not has_members:
        return _recompute_first(version, target, as_of, trigger, user, started_at, t0)
    # M' (or T, see ruled_out_exit_split) is evaluated once; only its differences are kept.
    n_in, n_out = materialise_differences(target=target, version=version, leaving=leaving)
    if n_in == 0 and n_out == 0:
        # Unchanged data and as_of change nothing and record nothing (docs/rules.md).
        drop_differences()
        return _unchanged(version, as_of, trigger, t0, None)
    run = _new_run(version, as_of, trigger, started_at, user, None)
    recorded_at = timezone.now()
    write_differences(version=version, run=run, as_of=as_of, recorded_at=recorded_at, exited=n_out)
    drop_differences()
    member_count = _current_members(version).count()
    return _record(version, run, (n_in, n_out), member_count, recorded_at, t0, user)


def _current_members(version: SegmentVersion):
    """The version's current members (customers through the Membership view)."""
    if version.segment.unit == Unit.ACCOUNT:
        return unit_of(version).open_spells(version.pk)
    return Membership.objects.filter(version_id=version.pk)


def _has_members(version: SegmentVersion) -> bool:
    """Whether the version has a current member, read through its open-spell index.

    A plain ``EXISTS ... LIMIT 1`` lets PostgreSQL walk the spell table from its
    start, past every other version's spells, when this version's rows sit at its
    end (163 ms for one version of the bench's 20 at 1M customers, 0.1 ms through
    the index: bench/README.md, "Unchanged data").
    """
    column = unit_of(version).column
    first = _current_members(version).order_by(column).values_list(column, flat=True)[:1]
    return bool(list(first))


def _is_account(version: SegmentVersion) -> bool:
    return version.segment.unit == Unit.ACCOUNT


def _recompute_first(
    version: SegmentVersion,
    target,
    as_of: datetime,
    trigger: str,
    user,
    started_at: datetime,
    t0: float,
) -> RecomputeResult:
    """A version without members: M' is written as it is selected (``write_first_members``).

    The run row is written first, for the spells to name it; when M' is
    empty too it is deleted again in the same transaction, so a run that
    changes nothing still leaves nothing behind.
    """
    run = _new_run(version, as_of, trigger, started_at, user, None)
    recorded_at = timezone.now()
    n_in = write_first_members(
        target=target, version=version, run=run, as_of=as_of, recorded_at=recorded_at
    )
    if n_in == 0:
        RecomputeRun.objects.filter(pk=run.pk).delete()
        return _unchanged(version, as_of, trigger, t0, None)
    return _record(version, run, (n_in, 0), n_in, recorded_at, t0, user)


def _recompute_shared(
    versions: list[SegmentVersion], *, as_of: datetime, trigger: str, user=None
) -> list[RecomputeResult] | None:
    """A full recompute of several versions sharing their event and rx totals; one transaction.

    The totals that at least ``SHARED_FROM`` (five) conditions of these
    versions read are computed once (``rules.shared``) and every version is
    evaluated against them, level by level. None when nothing is shared (the caller then runs
    one transaction per version, as before).

    Why one transaction: the versions are locked first, then the totals are
    read. A data change committed after that waits, in its incremental
    recompute, for these locks, and so is applied on top of this run instead
    of being overwritten by totals read before it (docs/architecture.md,
    "How a customer change becomes a membership change").
    """
    if user is not None:
        require(user, "recompute_segment")
    # Account segments' rules aggregate per account, not per customer: nothing to share.
    rules = [r for v in versions if not _is_account(v) for r in (v.entry_rule, v.exit_rule)]
    shared = SharedAggregates.plan(rules, as_of=as_of)
    if not shared:
        return None
    results: list[RecomputeResult] = []
    with transaction.atomic():
        without_jit()
        locked = _locked(versions)
        shared.materialise()
        for number, level in enumerate(selectors.dependency_levels(locked)):
            if number and any(r.changed for r in results):
                analyse_spells()  # the next level reads what this transaction wrote
            for version in level:
                results.append(
                    _recompute_locked(
                        version,
                        as_of=as_of,
                        trigger=trigger,
                        user=user,
                        shared=None if _is_account(version) else shared,
                    )
                )
        shared.drop()
    return results


def _locked(versions: list[SegmentVersion]) -> list[SegmentVersion]:
    """Lock the versions' rows (in id order: no deadlock between runs) and reload them."""
    locked = {
        v.pk: v
        for v in SegmentVersion.objects.select_for_update(of=("self",))
        .select_related("segment", "parent")
        .filter(pk__in=[v.pk for v in versions])
        .order_by("pk")
    }
    return [locked[v.pk] for v in versions if v.pk in locked]


def _new_run(
    version: SegmentVersion,
    as_of: datetime,
    trigger: str,
    started_at: datetime,
    user,
    scope_size: int | None,
) -> RecomputeRun:
    run = RecomputeRun.objects.create(
        version=version,
        as_of=as_of,
        trigger=trigger,
        started_at=started_at,
        user=user if getattr(user, "pk", None) else None,
        scope_size=scope_size,
    )
    return run


def _record(
    version: SegmentVersion,
    run: RecomputeRun,
    counts: tuple[int, int],
    member_count: int,
    recorded_at: datetime,
    t0: float,
    user,
) -> RecomputeResult:
    """Finish a run that changed membership: its figures, the version's, audit, announcement."""
    n_in, n_out = counts
    duration_ms = int((time.perf_counter() - t0) * 1000)
    RecomputeRun.objects.filter(pk=run.pk).update(
        entered=n_in, exited=n_out, member_count=member_count, duration_ms=duration_ms
    )
    SegmentVersion.objects.filter(pk=version.pk).update(
        member_count=member_count, last_recomputed_at=recorded_at, last_as_of=run.as_of
    )
    result = RecomputeResult(
        segment=version.segment.key,
        version=version.number,
        version_id=version.pk,
        as_of=run.as_of,
        entered=n_in,
        exited=n_out,
        member_count=member_count,
        duration_ms=duration_ms,
        trigger=str(run.trigger),
        run_id=run.pk,
        scope_size=run.scope_size,
    )
    record_event(
        actor=user if getattr(user, "pk", None) else None,
        action="segment.recomputed",
        object_type="segment",
        object_id=version.segment.key,
        after={
            "segment": version.segment.key,
            "version": version.number,
            "as_of": result.as_dict()["as_of"],
            "entered": n_in,
            "exited": n_out,
            "member_count": member_count,
            "duration_ms": duration_ms,
            "trigger": str(run.trigger),
            "scope_size": run.scope_size,
            "run": run.pk,
        },
    )
    state = version.state
    transaction.on_commit(
        lambda: membership_changed.send(
            sender=recompute_version,
            version_id=result.version_id,
            segment_key=result.segment,
            version_number=result.version,
            state=state,
            run_id=result.run_id,
            entered=result.entered,
            exited=result.exited,
            as_of=result.as_of,
        )
    )
    return result


def _recompute_scoped(
    versions: list[SegmentVersion],
    *,
    customer_ids: Iterable[int],
    as_of: datetime,
    trigger: str,
    user=None,
) -> list[RecomputeResult]:
    """Recompute ``versions`` for these customers only: one scope, one transaction.

    The scope's ids are written once into a temporary table shared by every
    version; the versions go level by level (dependency order), so a
    reference or a child reads the membership this run has just written for
    the same customers. Each version reads M' and M for the scope and writes
    its differences in bulk (``membership.scoped_differences``); its member
    count moves by entered - exited from the count its last run recorded.
    """
    scope = sorted({int(i) for i in customer_ids})
    results: list[RecomputeResult] = []
    if not versions:
        return results
    if not scope and not any(_is_account(v) for v in versions):
        return [_unchanged(v, as_of, trigger, time.perf_counter(), scope) for v in versions]
    started_at = timezone.now()
    with transaction.atomic():
        without_jit()
        locked = {v.pk: v for v in _locked(list(versions))}
        scope_sql = write_scope(scope) if scope else None
        # Keys of segments a full run changed in this transaction: a segment
        # depending on one is recomputed in full too (docs/architecture.md).
        changed_in_full: set[str] = set()
        for level in selectors.dependency_levels(list(locked.values())):
            for version in level:
                if _is_account(version) or selectors.version_edges(version) & changed_in_full:
                    # Account segments are recomputed in full: a customer's
                    # change moves the accounts above it, and the accounts it
                    # left (docs/rules.md, "Account segments").
                    result = _recompute_locked(version, as_of=as_of, trigger=trigger, user=user)
                    if result.changed:
                        changed_in_full.add(version.segment.key)
                    results.append(result)
                    continue
                t0 = time.perf_counter()
                if scope_sql is None:
                    results.append(_unchanged(version, as_of, trigger, t0, scope))
                    continue
                entered, exited = scoped_differences(
                    target=target_query(
                        version=version, as_of=as_of, scope=scope, scope_sql=scope_sql
                    ),
                    version=version,
                    scope_sql=scope_sql,
                )
                if not entered and not exited:
                    results.append(_unchanged(version, as_of, trigger, t0, scope))
                    continue
                run = _new_run(version, as_of, trigger, started_at, user, len(scope))
                recorded_at = timezone.now()
                write_scoped_differences(
                    version=version,
                    run=run,
                    entered=entered,
                    exited=exited,
                    as_of=as_of,
                    recorded_at=recorded_at,
                )
                counts = (len(entered), len(exited))
                member_count = version.member_count + counts[0] - counts[1]
                results.append(_record(version, run, counts, member_count, recorded_at, t0, user))
        if scope_sql is not None:
            drop_scope()
    return results


def _unchanged(
    version: SegmentVersion, as_of: datetime, trigger: str, t0: float, scope: list[int] | None
) -> RecomputeResult:
    return RecomputeResult(
        segment=version.segment.key,
        version=version.number,
        version_id=version.pk,
        as_of=as_of,
        entered=0,
        exited=0,
        member_count=version.member_count,
        duration_ms=int((time.perf_counter() - t0) * 1000),
        trigger=str(trigger),
        run_id=None,
        scope_size=len(scope) if scope is not None else None,
    )


def _recompute_in_order(
    versions: Iterable[SegmentVersion],
    *,
    as_of: datetime | None,
    trigger: str,
    user=None,
    customer_ids: Iterable[int] | None = None,
) -> list[RecomputeResult]:
    """Recompute versions level by level so references see this run's membership.

    With ``customer_ids`` the whole run is one scoped transaction
    (``_recompute_scoped``). Without, versions that share event or rx totals
    are one transaction computing each total once (``_recompute_shared``);
    otherwise one transaction per version.
    """
    versions = list(versions)
    # All refused before any is written.
    as_of = forward_as_of(versions=versions, as_of=as_of, refuse=_asked(trigger))
    if customer_ids is not None:
        return _recompute_scoped(
            versions, customer_ids=customer_ids, as_of=as_of, trigger=trigger, user=user
        )
    if len(versions) > 1:
        shared = _recompute_shared(versions, as_of=as_of, trigger=trigger, user=user)
        if shared is not None:
            return shared
    results: list[RecomputeResult] = []
    for level in selectors.dependency_levels(list(versions)):
        for version in level:
            results.append(
                recompute_version(version=version, as_of=as_of, trigger=trigger, user=user)
            )
    return results


def recompute_all(
    *,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.SCHEDULE,
    customer_ids: Iterable[int] | None = None,
) -> list[RecomputeResult]:
    """Recompute every active version in dependency order.

    Totals that several versions read are computed once for the run
    (``_recompute_shared``). With ``customer_ids``, each version is evaluated
    for those customers only.
    """
    return _recompute_in_order(
        selectors.active_versions(), as_of=as_of, trigger=trigger, customer_ids=customer_ids
    )


def recompute_with_dependents(
    *,
    version: SegmentVersion,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.ACTIVATION,
    user=None,
) -> list[RecomputeResult]:
    """Recompute a version, then every active version that depends on its segment.

    For activation: once a new version is active, references and children read
    its membership, so their own membership is brought up to date in the same
    dependency order (each in its own transaction).
    """
    key = version.segment.key
    actives = [v for v in selectors.active_versions() if v.pk != version.pk]
    edges = {v.segment.key: selectors.version_edges(v) for v in actives}
    affected: set[str] = set()
    frontier = {key}
    while frontier:
        frontier = {k for k, deps in edges.items() if deps & frontier} - affected - {key}
        affected |= frontier
    dependents = [v for v in actives if v.segment.key in affected]
    as_of = forward_as_of(versions=[version, *dependents], as_of=as_of, refuse=_asked(trigger))
    results = [recompute_version(version=version, as_of=as_of, trigger=trigger, user=user)]
    results += _recompute_in_order(dependents, as_of=as_of, trigger=trigger)
    return results


def recompute_segment_keys(
    *,
    keys: Iterable[str],
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.MANUAL,
    user=None,
) -> list[RecomputeResult]:
    """Recompute the named segments (active version, else latest) in dependency order."""
    versions = []
    for key in keys:
        segment = selectors.segment_get(key=key)
        version = selectors.current_version(segment)
        if version is not None:
            versions.append(
                SegmentVersion.objects.select_related("segment", "parent").get(pk=version.pk)
            )
    return _recompute_in_order(versions, as_of=as_of, trigger=trigger, user=user)


def recompute_everything(
    *, as_of: datetime | None = None, trigger: str = RecomputeTrigger.MANUAL
) -> list[RecomputeResult]:
    """Active versions plus the latest version of segments without one (the command's run)."""
    return _recompute_in_order(
        selectors.versions_for_full_recompute(), as_of=as_of, trigger=trigger
    )


def recompute_for_customers(
    *, customer_ids: Iterable[int], source: str | None = None
) -> list[RecomputeResult]:
    """Incremental recompute after a data change: the affected active versions, for these customers.

    ``source`` is the ``customers_changed`` source ("import:interactions",
    "api:interactions", ...): only versions whose rules read that kind of data,
    directly or through a reference or their parent, can change and are
    recomputed (``selectors.active_versions_affected_by``); without a source,
    every active version is. One scope and one transaction for the whole run,
    in dependency order, so a segment referencing another (or with a parent)
    sees the referenced segment's membership already updated for the same
    customers. With an exit rule, M ∪ E is taken over the touched customers
    only; members outside the scope are untouched. Account segments affected
    are recomputed in full in the same transaction (no ids: only they are,
    e.g. after a coverage import).
    """
    ids = sorted({int(i) for i in customer_ids})
    versions = selectors.active_versions_affected_by(source)
    return _recompute_scoped(
        versions,
        customer_ids=ids,
        as_of=forward_as_of(versions=versions, as_of=None),
        trigger=RecomputeTrigger.DATA_CHANGE,
    )
