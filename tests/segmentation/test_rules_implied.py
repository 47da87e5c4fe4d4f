"""A negated event condition decided by its sibling is left out, and nothing changes
(segmentation/rules/implied.py; bench/README.md, "Previews")."""

from __future__ import annotations

import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer
from segmentation.rules import customer_filter, validate_rule
from segmentation.rules.implied import rules_out, without_decided_negations
from tests.segmentation.reference import World, evaluate
from tests.segmentation.test_rules_property import ACCOUNTS, AS_OFS, _customer_row, _store

RECENT = {"event": {}, "within_days": 30, "count": {"op": "gte", "value": 3}}
QUIET = {"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}}


def test_three_interactions_in_30_days_rule_out_none_in_90():
    assert rules_out(RECENT, QUIET)
    assert without_decided_negations([RECENT, {"not": QUIET}]) == [RECENT]


@pytest.mark.parametrize(
    "other",
    [
        {**QUIET, "within_days": 10},  # a shorter window may hold none of the three
        {**QUIET, "event": {"channel": "email"}},  # other interactions
        {**QUIET, "count": {"op": "ne", "value": 0}},  # not one interval
        {**QUIET, "count": {"op": "lte", "value": 3}},  # 3 in 90 days is possible
    ],
)
def test_a_negation_that_could_fail_stays(other):
    assert not rules_out(RECENT, other)
    assert without_decided_negations([RECENT, {"not": other}]) == [RECENT, {"not": other}]


def test_a_longer_window_with_a_low_ceiling_rules_out_a_shorter_one_above_it():
    # At most one in 180 days leaves no room for two in 30 days.
    at_most_one = {
        "event": {"channel": "email"},
        "within_days": 180,
        "count": {"op": "lte", "value": 1},
    }
    two = {"event": {"channel": "email"}, "within_days": 30, "count": {"op": "gte", "value": 2}}
    assert rules_out(at_most_one, two)


COUNTS = st.builds(
    lambda op, v: {"op": op, "value": v},
    st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
    st.sampled_from([0, 1, 2, 3, 5, 6]),
)
EVENTS = st.fixed_dictionaries(
    {}, optional={"channel": st.sampled_from(["email", "webinar"]), "topic": st.just("safety")}
)
WINDOWS = st.sampled_from([None, 1, 30, 100])


@pytest.mark.django_db
@settings(
    max_examples=3 * int(os.environ.get("RULES_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    accounts=ACCOUNTS,
    rows=st.lists(_customer_row(), min_size=6, max_size=20),
    as_of=st.sampled_from(AS_OFS),
    keys=EVENTS,
    windows=st.tuples(WINDOWS, WINDOWS),
    counts=st.tuples(st.none() | COUNTS, st.none() | COUNTS),
)
def test_an_entry_and_a_negated_exit_on_the_same_interactions_match_the_reference(
    accounts, rows, as_of, keys, windows, counts
):
    conditions = []
    for within, count in zip(windows, counts, strict=True):
        node = {"event": keys}
        if within is not None:
            node["within_days"] = within
        if count is not None:
            node["count"] = count
        conditions.append(node)
    rule = {"all": [conditions[0], {"not": conditions[1]}]}
    validate_rule(rule, segment_exists=lambda key: True)
    try:
        with transaction.atomic():
            versions = _store(accounts, rows, as_of)
            world = World.load(members={"s1": set()})
            q = customer_filter(rule, as_of=as_of, segment_version_id=versions.get)
            got = set(Customer.objects.filter(q).values_list("id", flat=True))
            assert got == evaluate(rule, world, as_of), rule
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass
