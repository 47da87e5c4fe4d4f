"""A recompute whose entry rules out its exit tests only the members against the exit
(segmentation/services/membership.py, ``ruled_out_exit_split``; docs/rules.md, "Membership").

"3 interactions in 30 days" never meets "no interaction in 90 days", so
M' = (E ∪ M) \\ X is E ∪ (M \\ X): the figures are those of the hysteresis rule.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from customers.models import Customer
from segmentation import services
from segmentation.models import Membership
from segmentation.rules import entry_rules_out_exit
from tests.factories import CustomerFactory, InteractionFactory, UserFactory
from tests.segmentation.reference import World, evaluate
from tests.segmentation.segments_support import activate, make_segment, member_npis, set_members
from tests.segmentation.test_rules_property import (
    ACCOUNTS,
    AS_OFS,
    PROPERTY_SETTINGS,
    _customer_row,
    _store,
)

pytestmark = pytest.mark.django_db

RECENT = {"event": {}, "within_days": 30, "count": {"op": "gte", "value": 3}}
QUIET = {"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}}
DAY = dt.timedelta(days=1)
CARDIOLOGY = {"field": "specialty", "op": "eq", "value": "cardiology"}


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


def test_a_member_who_becomes_inactive_leaves_though_the_entry_still_holds():
    now = timezone.now()
    active, deactivated = CustomerFactory(), CustomerFactory()
    for customer in (active, deactivated):
        _active_on(customer, 1, 2, 3, at=now)
    version = activate(
        make_segment(UserFactory(roles=["brand"]), "lapsing", RECENT, exit_rule=QUIET)
    )
    services.recompute_version(version=version, as_of=now)
    Customer.objects.filter(pk=deactivated.pk).update(active=False)

    result = services.recompute_version(version=version, as_of=now + DAY)

    assert member_npis(version) == {active.npi}
    assert (result.entered, result.exited) == (0, 1)


def test_a_member_who_leaves_the_parent_leaves_and_a_fading_one_stays():
    now = timezone.now()
    before = now - 40 * DAY  # then nobody has 3 interactions in 30 days, all had one in 90
    brand = UserFactory(roles=["brand"])
    stays, leaves_parent = (CustomerFactory(specialty="cardiology") for _ in range(2))
    for customer in (stays, leaves_parent):
        _active_on(customer, 1, 2, 3, at=before)
    parent = activate(make_segment(brand, "cardio", CARDIOLOGY))
    child = activate(make_segment(brand, "lapsing", RECENT, exit_rule=QUIET, parent="cardio"))
    services.recompute_version(version=parent, as_of=before)
    services.recompute_version(version=child, as_of=before)
    Customer.objects.filter(pk=leaves_parent.pk).update(specialty="oncology")
    services.recompute_version(version=parent, as_of=now)

    result = services.recompute_version(version=child, as_of=now)

    assert member_npis(child) == {stays.npi}
    assert (result.entered, result.exited) == (0, 1)


def _event_pair(keys, windows, counts) -> tuple[dict, dict]:
    entry = {"event": keys, "within_days": windows[0], "count": counts[0]}
    exit_rule = {"event": keys, "count": counts[1]}
    if windows[1] is not None:
        exit_rule["within_days"] = windows[1]
    return entry, exit_rule


EVENT_PAIRS = st.builds(
    _event_pair,
    st.fixed_dictionaries({}, optional={"channel": st.just("email")}),
    st.tuples(st.sampled_from([1, 30]), st.sampled_from([None, 30, 100])),
    st.tuples(
        st.builds(lambda v: {"op": "gte", "value": v}, st.sampled_from([1, 2, 3])),
        st.builds(
            lambda op, v: {"op": op, "value": v},
            st.sampled_from(["eq", "lte", "lt"]),
            st.sampled_from([0, 1, 2]),
        ),
    ),
)


def _decile(op: str, value) -> dict:
    return {"field": "decile", "op": op, "value": value}


# Deciles of the drawn customers are None, 1, 5, 7, 8 or 10.
DECILE = st.builds(
    _decile,
    st.sampled_from(["gt", "gte", "lt", "lte", "eq"]),
    st.sampled_from([1, 5, 6.5, 7, 8, 10]),
)
FIELD_PAIRS = st.tuples(DECILE, DECILE)


@pytest.mark.parametrize(
    ("entry", "exit_rule", "excluded"),
    [
        (_decile("gte", 9), _decile("lte", 5), True),
        (_decile("gt", 5), _decile("lte", 5), True),
        (_decile("gte", 5), _decile("lte", 5), False),
        (_decile("eq", 7), _decile("eq", 7.5), True),
        (_decile("gte", 9), {"field": "state", "op": "eq", "value": "CA"}, False),
        (
            {"field": "state", "op": "gte", "value": "NY"},
            {"field": "state", "op": "lte", "value": "CA"},
            False,
        ),
        (_decile("ne", 9), _decile("eq", 9), False),
    ],
)
def test_number_fields_whose_ranges_never_meet_rule_each_other_out(entry, exit_rule, excluded):
    assert entry_rules_out_exit(entry, exit_rule) is excluded
    assert entry_rules_out_exit({"all": [RECENT, entry]}, exit_rule) is excluded


# A small world, an as_of, an entry and exit pair (some rule each other out, some
# do not) and Hypothesis' draws for members and inactive customers.
CASES = dict(
    accounts=ACCOUNTS,
    rows=st.lists(_customer_row(), min_size=6, max_size=16),
    as_of=st.sampled_from(AS_OFS),
    pair=EVENT_PAIRS | FIELD_PAIRS,
    data=st.data(),
)


def _matches_the_reference(accounts, rows, as_of, entry, exit_rule, data, *, members: bool):
    """Recompute a lapsing segment (with drawn members, or none: a first run) and compare
    its members with the reference: ((M ∪ E) \\ X) \\ inactive (docs/rules.md)."""
    try:
        with transaction.atomic():
            _store(accounts, rows, as_of)
            ids = sorted(Customer.objects.values_list("id", flat=True))
            current = (
                data.draw(st.sets(st.sampled_from(ids)), label="members") if members else set()
            )
            inactive = data.draw(st.sets(st.sampled_from(ids)), label="inactive")
            brand = UserFactory(roles=["brand"])
            version = activate(make_segment(brand, "lapsing", entry, exit_rule=exit_rule))
            set_members(version, current, as_of=as_of - DAY)
            Customer.objects.filter(pk__in=inactive).update(active=False)

            services.recompute_version(version=version, as_of=as_of)

            world = World.load()
            entering, leaving = (evaluate(r, world, as_of) for r in (entry, exit_rule))
            expected = ((current | entering) - leaving) - inactive
            got = set(
                Membership.objects.filter(version=version).values_list("customer_id", flat=True)
            )
            assert got == expected, (entry, exit_rule)
            raise _Rollback
    except _Rollback:
        pass


@PROPERTY_SETTINGS
@given(**CASES)
def test_a_recompute_with_members_matches_the_reference(accounts, rows, as_of, pair, data):
    entry, exit_rule = pair
    assume(entry_rules_out_exit(entry, exit_rule))
    _matches_the_reference(accounts, rows, as_of, entry, exit_rule, data, members=True)


@PROPERTY_SETTINGS
@given(**CASES)
def test_a_first_recompute_matches_the_reference(accounts, rows, as_of, pair, data):
    """Without members M' is E \\ X, and E alone when the entry rules out the exit (the
    pairs drawn include entries that do not: their exit must still be tested)."""
    entry, exit_rule = pair
    _matches_the_reference(accounts, rows, as_of, entry, exit_rule, data, members=False)


class _Rollback(Exception):
    pass
