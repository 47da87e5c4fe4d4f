"""Small helpers shared by the segment tests: a fixed clock and segment set-up."""

from __future__ import annotations

import datetime as dt
from copy import deepcopy

from segmentation import services
from segmentation.models import Membership, MembershipSpell, SegmentVersion
from segmentation.rules.examples import EXAMPLE_ENTRY_RULE, EXAMPLE_EXIT_RULE
from segmentation.units import ACCOUNT

AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

ALWAYS = {"all": []}
NEVER = {"any": []}

# docs/rules.md's example, verbatim.
EXAMPLE_ENTRY = deepcopy(EXAMPLE_ENTRY_RULE)
EXAMPLE_EXIT = deepcopy(EXAMPLE_EXIT_RULE)


def make_segment(user, key: str, entry_rule, exit_rule=None, parent=None, **kwargs):
    """Create a segment through the service and return its version 1."""
    kwargs.setdefault("name", key.replace("-", " ").title())
    kwargs.setdefault("purpose", "promotional")
    segment = services.segment_create(
        user=user, key=key, entry_rule=entry_rule, exit_rule=exit_rule, parent=parent, **kwargs
    )
    return segment.versions.get(number=1)


def activate(version: SegmentVersion) -> SegmentVersion:
    """Force a version active (governance's sign-off is tested elsewhere)."""
    SegmentVersion.objects.filter(pk=version.pk).update(state="active")
    version.refresh_from_db()
    return version


def member_npis(version: SegmentVersion) -> set[str]:
    return set(Membership.objects.filter(version=version).values_list("customer__npi", flat=True))


def account_member_ids(version: SegmentVersion) -> set[str]:
    """The account ids of an account segment version's current members."""
    return set(ACCOUNT.open_spells(version.pk).values_list("account_id", flat=True))


def set_members(version: SegmentVersion, customer_ids, as_of=AS_OF) -> None:
    """Make exactly these customers the current members of ``version`` (no history, no run).

    For tests of readers; the engine's own writes are tested through recomputes.
    """
    ids = {int(i) for i in customer_ids}
    current = MembershipSpell.objects.filter(version=version, exited_as_of__isnull=True)
    current.exclude(customer_id__in=ids).delete()
    have = set(current.values_list("customer_id", flat=True))
    MembershipSpell.objects.bulk_create(
        MembershipSpell(
            version=version, customer_id=cid, entered_as_of=as_of, entered_recorded_at=as_of
        )
        for cid in sorted(ids - have)
    )
