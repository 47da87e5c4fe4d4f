"""A recompute whose entry rules out its exit tests only the members against the exit
(segmentation/services/membership.py, ``target_query``; docs/rules.md, "Membership").

"3 interactions in 30 days" never meets "no interaction in 90 days", so
M' = (E ∪ M) \\ X is E ∪ (M \\ X): the figures are those of the hysteresis rule.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from segmentation import services
from segmentation.rules import entry_rules_out_exit
from tests.factories import CustomerFactory, InteractionFactory, UserFactory
from tests.segmentation.segments_support import activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

RECENT = {"event": {}, "within_days": 30, "count": {"op": "gte", "value": 3}}
QUIET = {"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}}
DAY = dt.timedelta(days=1)


def test_the_entry_rules_out_the_exit_only_when_no_customer_can_meet_both():
    assert entry_rules_out_exit(RECENT, QUIET)
    assert entry_rules_out_exit(
        {"all": [{"field": "decile", "op": "gte", "value": 5}, RECENT]}, QUIET
    )
    assert not entry_rules_out_exit(RECENT, {**QUIET, "within_days": 10})
    assert not entry_rules_out_exit({"any": [RECENT]}, QUIET)
    assert not entry_rules_out_exit(RECENT, None)
    assert not entry_rules_out_exit(RECENT, {"not": RECENT})


def _active_on(customer, *days_before: int, at: dt.datetime) -> None:
    for n in days_before:
        InteractionFactory(customer=customer, occurred_at=at - n * DAY)


def test_members_leave_only_by_the_exit_and_the_entry_admits_newcomers():
    now = timezone.now()
    first, second = now - 200 * DAY, now - 100 * DAY
    kept, lapsed, fading, newcomer, occasional = (CustomerFactory() for _ in range(5))
    _active_on(kept, 1, 2, 3, at=first)
    _active_on(kept, 1, 2, 3, at=second)
    _active_on(lapsed, 1, 2, 3, at=first)  # then nothing for 100 days: the exit
    _active_on(fading, 1, 2, 3, at=first)
    _active_on(fading, 60, at=second)  # one in 90 days: no longer E, not X
    _active_on(newcomer, 1, 2, 3, at=second)
    _active_on(occasional, 5, at=second)  # never E
    version = activate(
        make_segment(UserFactory(roles=["brand"]), "lapsing", RECENT, exit_rule=QUIET)
    )

    services.recompute_version(version=version, as_of=first)
    assert member_npis(version) == {kept.npi, lapsed.npi, fading.npi}
    result = services.recompute_version(version=version, as_of=second)

    assert member_npis(version) == {kept.npi, fading.npi, newcomer.npi}
    assert (result.entered, result.exited) == (1, 1)
