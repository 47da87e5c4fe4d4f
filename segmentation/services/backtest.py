"""Backtest: who would have been members of a version at a past date (docs/rules.md, "Backtest").

A recompute only moves a version's history forward (``recompute.forward_as_of``);
to look at a past date one backtests instead. Nothing is written but the audit
event: no membership, no history, no run, no announcement (so no sync).

Let H be the version's members at D according to its history (spells entered
on or before D and not exited by D), E and X the customers matching the entry
and exit rules at D. The backtest's members are, as a recompute at D would
have made them from H: E without an exit rule, (H ∪ E) \\ X with one; with a
parent, only the parent's current members (references and the parent are read
as they are now, as in a preview). ``entered`` and ``exited`` compare them
with H.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.permissions import require
from audit.services import record_event
from core.time import iso_z
from customers.models import Account, Customer

from .. import selectors
from ..models import SegmentVersion
from ..rules import account_filter, customer_filter
from ..units import ACCOUNT, UnitSpec, unit_of
from .membership import current_members_of, in_current_members_of, without_jit
from .preview import summarise_accounts, summarise_matches
from .recompute import check_not_ahead


@dataclass
class Backtest:
    segment: str
    version: int
    as_of: datetime
    count: int
    entered: int
    exited: int
    history_count: int
    sample: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "version": self.version,
            "as_of": iso_z(self.as_of),
            "count": self.count,
            "entered": self.entered,
            "exited": self.exited,
            "history_count": self.history_count,
            "sample": self.sample,
        }


def _history_members_at(unit: UnitSpec, version_id: int, as_of: datetime):
    """Ids of the version's members (customers or accounts) at ``as_of`` by its history."""
    return unit.spell.objects.filter(
        Q(exited_as_of__isnull=True) | Q(exited_as_of__gt=as_of),
        version_id=version_id,
        entered_as_of__lte=as_of,
    ).values(unit.column)


def _account_members(version: SegmentVersion, as_of: datetime, history) -> QuerySet:
    """An account segment's backtest members, as ``account_target_query`` forms M'."""
    resolver = selectors.ReferenceResolver()

    def matching(rule: Any) -> Q:
        return account_filter(rule, as_of=as_of, segment_version_id=resolver, rollup=version.rollup)

    if version.exit_rule is None:
        members = Account.objects.filter(matching(version.entry_rule))
    else:
        members = Account.objects.filter(Q(pk__in=history) | matching(version.entry_rule)).filter(
            matching({"not": version.exit_rule})
        )
    if version.parent is not None:
        parent_id = resolver(version.parent.key)
        if parent_id is None:
            return members.none()
        members = members.filter(pk__in=ACCOUNT.open_spells(parent_id).values("account_id"))
    return members


def backtest_version(*, user, version: SegmentVersion, as_of: datetime) -> Backtest:
    """Who would have been members of ``version`` at ``as_of``; writes only the audit event."""
    require(user, "view_members")
    as_of = check_not_ahead(as_of=as_of)
    unit = unit_of(version)
    if unit is ACCOUNT:
        with transaction.atomic():
            history = _history_members_at(unit, version.pk, as_of)
            members = _account_members(version, as_of, history)
            count, sample, _ = summarise_accounts(members, breakdown=False)
            was = Account.objects.filter(pk__in=history)
            return _finish(user, version, as_of, members, was, count, sample)
    resolver = selectors.ReferenceResolver()
    parent = version.parent
    within = current_members_of(parent.key, resolver) if parent is not None else None

    def matching(rule: Any) -> Q:
        return customer_filter(rule, as_of=as_of, segment_version_id=resolver, within=within)

    with transaction.atomic():
        without_jit()
        history = _history_members_at(unit, version.pk, as_of)
        if parent is not None and within is None:
            members = Customer.objects.none()
        elif version.exit_rule is None:
            members = Customer.objects.filter(matching(version.entry_rule))
        else:
            members = Customer.objects.filter(
                Q(pk__in=history) | matching(version.entry_rule)
            ).filter(matching({"not": version.exit_rule}))
        if parent is not None:
            members = members.filter(in_current_members_of(parent.key, resolver))
        count, sample, _ = summarise_matches(members, breakdown=False)
        was = Customer.objects.filter(pk__in=history)
        return _finish(user, version, as_of, members, was, count, sample)


def _finish(user, version, as_of, members: QuerySet, was: QuerySet, count: int, sample) -> Backtest:
    """Compare the members with the history's (``was``), then audit the read."""
    history_count = was.count()
    entered = members.exclude(pk__in=was.values("pk")).count() if count else 0
    exited = was.exclude(pk__in=members.values("pk")).count() if history_count else 0
    result = Backtest(
        segment=version.segment.key,
        version=version.number,
        as_of=as_of,
        count=count,
        entered=entered,
        exited=exited,
        history_count=history_count,
        sample=sample,
    )
    record_event(
        actor=user,
        action="segment.backtested",
        object_type="segment",
        object_id=version.segment.key,
        after={k: v for k, v in result.as_dict().items() if k != "sample"},
    )
    return result
