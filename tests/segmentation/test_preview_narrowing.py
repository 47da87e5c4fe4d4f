"""Previews with a parent or a segment reference: only members count (docs/rules.md,
"Segment references and parents"), whatever the narrowing of the grouped subqueries."""

from __future__ import annotations

import pytest

from segmentation import services
from tests.factories import CustomerFactory, InteractionFactory, RxFactFactory

from .segments_support import AS_OF, DAY, make_segment

pytestmark = pytest.mark.django_db

HIGH = {"field": "decile", "op": "gte", "value": 8}
TWO_VISITS = {
    "event": {"channel": "rep_visit"},
    "within_days": 30,
    "count": {"op": "gte", "value": 2},
}
ONE_VISIT = {**TWO_VISITS, "count": {"op": "eq", "value": 1}}
RX_20 = {"rx": {}, "metric": "trx", "sum": {"op": "gte", "value": 20}}


@pytest.fixture
def world(make_user):
    """Members of 'high': a (2 visits, trx 30), b (1 visit); outside: c (2 visits, trx 30), d."""
    brand = make_user("brand")
    people = {}
    for name, decile, visits, trx in (
        ("a", 9, 2, 30),
        ("b", 9, 1, 0),
        ("c", 3, 2, 30),
        ("d", 3, 0, 0),
    ):
        customer = CustomerFactory(decile=decile)
        for i in range(visits):
            InteractionFactory(
                customer=customer, occurred_at=AS_OF - (i + 1) * DAY, channel="rep_visit"
            )
        if trx:
            RxFactFactory(customer=customer, month=AS_OF.date().replace(day=1), trx=trx)
        people[name] = customer
    version = make_segment(brand, "high", HIGH)
    services.recompute_version(version=version, as_of=AS_OF)
    return brand, people


def preview(user, entry_rule, **kwargs):
    result = services.preview_rule(user=user, entry_rule=entry_rule, as_of=AS_OF, **kwargs)
    return result.count, [row["npi"] for row in result.sample]


@pytest.mark.parametrize(
    ("rule", "parent", "expected"),
    [
        (TWO_VISITS, "high", "a"),
        (ONE_VISIT, "high", "b"),
        (RX_20, "high", "a"),
        ({"all": [{"segment": "high"}, TWO_VISITS]}, None, "a"),
        ({"all": [{"segment": "high"}, ONE_VISIT]}, None, "b"),
        ({"all": [{"segment": "high"}, RX_20]}, None, "a"),
        ({"all": [{"not": {"segment": "high"}}, TWO_VISITS]}, None, "c"),
        ({"all": [{"segment": "high"}, {"not": TWO_VISITS}]}, None, "b"),
        ({"any": [{"segment": "high"}, TWO_VISITS]}, None, "abc"),
    ],
)
def test_only_members_of_the_parent_or_reference_count(world, rule, parent, expected):
    brand, people = world
    npis = sorted(people[name].npi for name in expected)
    assert preview(brand, rule, parent=parent) == (len(npis), npis)


@pytest.mark.parametrize(
    ("entry_rule", "exit_rule", "expected"),
    [
        # The entry's field condition narrows the exit's count: a, b pass HIGH;
        # b (one visit) leaves by the exit.
        ({"all": [HIGH]}, {"not": TWO_VISITS}, ["a"]),
        (HIGH, {"not": TWO_VISITS}, ["a"]),
        ({"all": [HIGH, RX_20]}, ONE_VISIT, ["a"]),
        ({"any": [HIGH, TWO_VISITS]}, ONE_VISIT, ["a", "c"]),
    ],
)
def test_a_preview_admits_the_entry_matches_outside_the_exit(
    world, entry_rule, exit_rule, expected
):
    user, people = world
    count, npis = preview(user, entry_rule, exit_rule=exit_rule)
    assert count == len(expected)
    assert sorted(npis) == sorted(people[name].npi for name in expected)
