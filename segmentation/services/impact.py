"""What a new version does to the audience against the active one (docs/pages.md,
"Reviewers"): how many customers it adds and drops, by territory and by specialty,
and why each group moves.

The new version is counted as a first recompute would admit it now ((E \\ X) ∩ P,
as a preview); the active version by its current members. Members stay until the
exit rule removes them (hysteresis), so the active version may hold members its
entry rule no longer admits; a new version starts from its own entry rule and
does not carry them over. The drops are split accordingly: members the active
rules still admit but the new ones do not ("the entry rule changed"), and members
held only until the exit rule removes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.permissions import require
from customers.models import Customer

from ..models import Membership, SegmentVersion, Unit
from ..units import ACCOUNT
from .membership import without_jit
from .preview import fresh_accounts_query, fresh_members_query

TOP = 8


@dataclass
class Impact:
    """Customers the new version adds and drops, with the largest groups of each."""

    new_count: int
    current_count: int
    added: int
    dropped: int
    added_by: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    dropped_by: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # Members now who are members of the new version too.
    kept: int = 0
    # Drops the active rules still admit today: the entry (or exit) rule changed.
    dropped_rule_changed: int = 0
    # Drops the active rules no longer admit: held only until the exit rule removes them.
    dropped_held: int = 0


@dataclass(frozen=True)
class MembershipExplained:
    """An active version's members: those its rules admit today, and those held
    until its exit rule removes them (they entered earlier and no longer match)."""

    members: int
    matching: int
    held: int


def _breakdown(qs: QuerySet) -> dict[str, list[tuple[str, int]]]:
    second = (
        ("specialty", "specialty") if qs.model is Customer else ("account type", "account_type")
    )
    out = {}
    for name, column in (("territory", "territory_id"), second):
        rows = qs.order_by().values(column).annotate(n=Count("pk")).order_by("-n", column)[:TOP]
        out[name] = [(row[column] or "—", row["n"]) for row in rows]
    return out


def version_impact(*, user, version: SegmentVersion, against: SegmentVersion | None) -> Impact:
    """Adds and drops of ``version`` against ``against``'s members (None: nobody yet)."""
    require(user, "preview_segment")
    with transaction.atomic():
        without_jit()
        new = _admitted_now(version)
        current_ids = _member_ids(version, against)
        current = new.model.objects.filter(pk__in=current_ids)
        added = new.exclude(pk__in=current_ids)
        dropped = current.exclude(pk__in=new.values("pk"))
        added_count, dropped_count = added.count(), dropped.count()
        rule_changed = 0
        if dropped_count and against is not None:
            still_admitted = _admitted_now(against)
            rule_changed = dropped.filter(pk__in=still_admitted.values("pk")).count()
        new_count, current_count = new.count(), current.count()
        return Impact(
            new_count=new_count,
            current_count=current_count,
            added=added_count,
            dropped=dropped_count,
            added_by=_breakdown(added) if added_count else {},
            dropped_by=_breakdown(dropped) if dropped_count else {},
            kept=current_count - dropped_count,
            dropped_rule_changed=rule_changed,
            dropped_held=dropped_count - rule_changed,
        )


def _member_ids(version: SegmentVersion, of: SegmentVersion | None) -> QuerySet:
    """The ids of ``of``'s current members (``version``'s unit; None: nobody)."""
    if version.segment.unit == Unit.ACCOUNT:
        if of is None:
            return ACCOUNT.spell.objects.none().values("account_id")
        return ACCOUNT.open_spells(of.pk).values("account_id")
    return Membership.objects.filter(version=of).values("customer_id")


def _admitted_now(version: SegmentVersion) -> QuerySet:
    """Customers (accounts, for an account segment) ``version``'s rules admit today,
    as a first recompute would."""
    if version.segment.unit == Unit.ACCOUNT:
        return fresh_accounts_query(
            entry_rule=version.entry_rule,
            exit_rule=version.exit_rule,
            parent=version.parent,
            as_of=timezone.now(),
            rollup=version.rollup,
        )
    return fresh_members_query(
        entry_rule=version.entry_rule,
        exit_rule=version.exit_rule,
        parent=version.parent,
        as_of=timezone.now(),
    )


def membership_explained(*, user, version: SegmentVersion) -> MembershipExplained:
    """Why an active version has more members than its rules match today."""
    require(user, "view_segments")
    with transaction.atomic():
        without_jit()
        member_ids = _member_ids(version, version)
        admitted = _admitted_now(version)
        members = admitted.model.objects.filter(pk__in=member_ids).count()
        matching = admitted.filter(pk__in=member_ids).count()
    return MembershipExplained(members=members, matching=matching, held=members - matching)
