"""Event counts answered from the latest interaction times (segmentation/rules/recency.py).

docs/rules.md, "Latest interactions": the answer is the same set as counting
the interactions, also for customers with interactions after ``as_of``.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from segmentation.rules import customer_filter
from segmentation.rules.recency import answers
from tests.factories import CustomerFactory, InteractionFactory

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def visits(customer, *days_ago: float, channel: str = "email") -> None:
    for days in days_ago:
        InteractionFactory(
            customer=customer, channel=channel, kind="opened", occurred_at=AS_OF - days * DAY
        )


def emails(n: int, days: int | None = 30, op: str = "gte") -> dict:
    rule = {"event": {"channel": "email"}, "count": {"op": op, "value": n}}
    return rule if days is None else {**rule, "within_days": days}


def test_counts_up_to_the_kept_five_are_answered_from_the_latest_times():
    assert answers(emails(5)) and answers(emails(4, op="eq"))
    assert answers({"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}})
    assert answers({"event": {"topic": "safety"}, "within_days": 180})


def test_counts_beyond_five_and_other_filters_are_counted():
    assert not answers(emails(6))
    assert not answers(emails(5, op="eq"))  # needs "at least 6"
    assert not answers({"event": {"channel": "email", "kind": "opened"}})
    assert not answers({"event": {"asset": "A1"}})


def test_answered_condition_reads_the_latest_times(db):
    q = customer_filter(emails(3), as_of=AS_OF, segment_version_id=lambda key: None)
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(q).values_list("id", flat=True))
    sql = queries.captured_queries[-1]["sql"].lower()
    assert "customers_interactionrecency" in sql


def test_a_later_interaction_does_not_hide_earlier_ones(matching):
    # Five latest times kept: all five after as_of. The three in the window
    # are older than all of them and still count.
    customer = CustomerFactory()
    visits(customer, 1, 2, 3)
    visits(customer, -1, -2, -3, -4, -5)
    assert matching(emails(3), as_of=AS_OF) == {customer.npi}
    assert matching(emails(4), as_of=AS_OF) == set()
    assert matching(emails(3, op="eq"), as_of=AS_OF) == {customer.npi}


def test_a_later_interaction_of_another_channel_leaves_the_answer_exact(matching):
    customer = CustomerFactory()
    visits(customer, 1, 40)
    visits(customer, -1, channel="webinar")
    assert matching(emails(1), as_of=AS_OF) == {customer.npi}
    assert matching(emails(2), as_of=AS_OF) == set()
    assert matching(emails(2, days=None), as_of=AS_OF) == {customer.npi}


def test_more_interactions_than_kept_count_exactly(matching):
    many, five = CustomerFactory(), CustomerFactory()
    visits(many, 1, 2, 3, 4, 5, 6, 7)
    visits(five, 1, 2, 3, 4, 5)
    assert matching(emails(5), as_of=AS_OF) == {many.npi, five.npi}
    assert matching(emails(6), as_of=AS_OF) == {many.npi}
    assert matching(emails(5, op="eq"), as_of=AS_OF) == {five.npi}
    assert matching(emails(4, op="gt"), as_of=AS_OF) == {many.npi, five.npi}


def test_never_includes_customers_without_interactions(matching):
    never, lapsed, active = CustomerFactory(), CustomerFactory(), CustomerFactory()
    visits(lapsed, 100)
    visits(active, 10)
    rule = {"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}}
    assert matching(rule, as_of=AS_OF) == {never.npi, lapsed.npi}
    assert matching({"not": rule}, as_of=AS_OF) == {active.npi}
