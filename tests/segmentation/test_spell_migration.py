"""A database with membership and history rows keeps both through the move to spells.

Migration ``segmentation/0005`` pairs every history entry with the exit after
it into one spell and leaves current members open; the two tables become
views of the spells (docs/architecture.md). Readers must see the same current
members and the same history before and after.
"""

from __future__ import annotations

import pytest

from segmentation.models import Membership, MembershipChange, MembershipSpell, RecomputeRun
from tests.factories import CustomerFactory
from tests.migrations import migrate_to, migrate_to_latest

from .segments_support import AS_OF, DAY, make_segment

BEFORE_SPELLS = [("segmentation", "0004_merge_provenance")]


def _members(model, field: str) -> set:
    return set(model.objects.values_list("version_id", "customer__npi", field))


def _history(model) -> list:
    """Every change, in recorded order; within one run, ids (and so order) may differ."""
    rows = model.objects.order_by("recorded_at", "id").values_list(
        "recorded_at", "version_id", "customer__npi", "direction", "as_of", "run_id"
    )
    return sorted(rows)


@pytest.mark.django_db(transaction=True)
def test_members_and_history_read_the_same_after_the_move_to_spells(make_user):
    brand = make_user("brand")
    version = make_segment(brand, "kept", {"all": []})
    old_apps = migrate_to(BEFORE_SPELLS)
    OldMembership = old_apps.get_model("segmentation", "Membership")
    OldChange = old_apps.get_model("segmentation", "MembershipChange")
    back, stays, left, untracked, exit_only = (CustomerFactory() for _ in range(5))
    runs = [
        RecomputeRun.objects.create(
            version=version, as_of=AS_OF + i * DAY, started_at=AS_OF + i * DAY
        )
        for i in range(3)
    ]

    def change(customer, direction, i):
        OldChange.objects.create(
            version_id=version.pk,
            customer_id=customer.pk,
            direction=direction,
            as_of=runs[i].as_of,
            recorded_at=runs[i].as_of,
            run_id=runs[i].pk,
        )

    # Entered, left and came back; entered and stayed; entered and left; a
    # member with no history; an exit with no entry before it.
    for customer, steps in (
        (back, [("entry", 0), ("exit", 1), ("entry", 2)]),
        (stays, [("entry", 0)]),
        (left, [("entry", 1), ("exit", 2)]),
        (exit_only, [("exit", 1)]),
    ):
        for direction, i in steps:
            change(customer, direction, i)
    for customer, i in ((back, 2), (stays, 0), (untracked, 1)):
        OldMembership.objects.create(
            version_id=version.pk, customer_id=customer.pk, entered_at=runs[i].as_of
        )
    members_before = _members(OldMembership, "entered_at")
    history_before = _history(OldChange)

    migrate_to_latest()

    assert _members(Membership, "entered_at") == members_before
    assert _history(MembershipChange) == history_before
    assert MembershipSpell.objects.filter(exited_as_of__isnull=True).count() == 3
    assert MembershipSpell.objects.count() == 6
