"""What a new version does to the audience against the active one (docs/pages.md,
"Reviewers"): how many customers it adds and drops, by territory and by specialty.

The new version is counted as a first recompute would admit it now ((E \\ X) ∩ P,
as a preview); the active version by its current members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.permissions import require
from customers.models import Customer

from ..models import Membership, SegmentVersion
from .membership import without_jit
from .preview import fresh_members_query

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


def _breakdown(qs: QuerySet[Customer]) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for name, column in (("territory", "territory_id"), ("specialty", "specialty")):
        rows = qs.order_by().values(column).annotate(n=Count("pk")).order_by("-n", column)[:TOP]
        out[name] = [(row[column] or "—", row["n"]) for row in rows]
    return out


def version_impact(*, user, version: SegmentVersion, against: SegmentVersion | None) -> Impact:
    """Adds and drops of ``version`` against ``against``'s members (None: nobody yet)."""
    require(user, "preview_segment")
    with transaction.atomic():
        without_jit()
        new = fresh_members_query(
            entry_rule=version.entry_rule,
            exit_rule=version.exit_rule,
            parent=version.parent,
            as_of=timezone.now(),
        )
        current_ids = Membership.objects.filter(version=against).values("customer_id")
        current = Customer.objects.filter(pk__in=current_ids)
        added = new.exclude(pk__in=current_ids)
        dropped = current.exclude(pk__in=new.values("pk"))
        added_count, dropped_count = added.count(), dropped.count()
        return Impact(
            new_count=new.count(),
            current_count=current.count(),
            added=added_count,
            dropped=dropped_count,
            added_by=_breakdown(added) if added_count else {},
            dropped_by=_breakdown(dropped) if dropped_count else {},
        )
