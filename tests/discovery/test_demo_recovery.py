"""Describe on the demo data (seed_demo's customers, interactions and rx facts): from 70%
of the members of a planted rule of n conditions, the answer has at most n + 1
conditions and selects the rule's members with F1 >= 0.95 (docs/discovery.md, "A list
is a sample of a group"). bench/discovery_demo.py measures more rules on the full demo."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from demo.seed import seed_accounts, seed_customers, seed_demo, seed_territories
from segmentation.rules import customer_filter
from segmentation.selectors import ReferenceResolver

from .conftest import f1

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 12, 1)
AS_OF = dt.datetime(2026, 11, 30, 23, 0, tzinfo=dt.UTC)
CARDIOZEN_12M = {
    "rx": {"product": "CARDIOZEN"}, "metric": "trx", "months": 12,
    "sum": {"op": "gte", "value": 20},
}  # fmt: skip
PLANTED = {
    "specialty": ({"field": "specialty", "op": "eq", "value": "cardiology"}, 1),
    "specialty and CARDIOZEN TRx": (
        {"all": [{"field": "specialty", "op": "eq", "value": "cardiology"}, CARDIOZEN_12M]},
        2,
    ),
    "specialty, decile and rep visits": (
        {
            "all": [
                {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]},
                {"field": "decile", "op": "gte", "value": 5},
                {"event": {"channel": "rep_visit"}, "within_days": 90,
                 "count": {"op": "gte", "value": 2}},
            ]
        },
        3,
    ),
}  # fmt: skip


def _members(rule: dict) -> list[str]:
    from customers.models import Customer

    q = customer_filter(rule, as_of=AS_OF, segment_version_id=ReferenceResolver())
    return sorted(Customer.objects.filter(q).values_list("npi", flat=True))


def _conditions(rule: dict) -> int:
    if "any" in rule or "all" in rule:
        return sum(_conditions(r) for r in rule.get("any", rule.get("all", [])))
    return 1


@pytest.fixture
def demo_data(db):
    """The demo's HCPs, accounts, interactions and rx facts (no segments or users)."""
    seed_demo(
        customers=2000,
        seed=42,
        anchor=ANCHOR,
        steps=(seed_territories, seed_accounts, seed_customers),
    )


def test_planted_rules_come_back_from_70_percent_of_their_members(demo_data, describe):
    for name, (rule, n) in PLANTED.items():
        members = _members(rule)
        assert len(members) >= 40, (name, len(members))
        listed = random.Random(7).sample(members, int(len(members) * 0.7))
        response = describe(npis=listed, as_of=AS_OF.isoformat())
        assert response.status_code == 200, response.content
        body = response.json()
        returned = body["entry_rule"]
        assert _conditions(returned) <= n + 1, (name, body["plain_english"])
        score = f1(set(_members(returned)), set(members))
        assert score >= 0.95, (name, score, body["plain_english"])
        assert body["verdict"] != "no_pattern", (name, body["holdout"])
