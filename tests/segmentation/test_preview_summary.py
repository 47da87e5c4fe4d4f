"""A preview's count, sample and breakdowns, in either statement form
(segmentation/services/preview.py, ``summary_statement``).

A rule testable one customer at a time is summarised from its matches
grouped by territory, specialty and decile on PostgreSQL; a rule with a
count grouped per customer from one materialised set of matches. The
figures are the same either way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection

from customers.models import Customer
from segmentation.services.preview import (
    SAMPLE_SIZE,
    fresh_members_query,
    summarise_matches,
    summary_statement,
)
from tests.factories import CustomerFactory, InteractionFactory, RxFactFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
RX = {"rx": {}, "metric": "trx", "months": 3, "sum": {"op": "gte", "value": 5}}
SIX_EMAILS = {"event": {"channel": "email"}, "count": {"op": "gte", "value": 6}}


@pytest.fixture
def prescribers():
    """30 customers over three specialties and deciles; the even ones write 5 trx
    and open 6 emails."""
    for i in range(30):
        customer = CustomerFactory(
            specialty=("cardiology", "oncology", "dermatology")[i % 3], decile=i % 4 + 1
        )
        if i % 2 == 0:
            RxFactFactory(customer=customer, month=dt.date(2026, 2, 1), trx=5)
            for day in range(6):
                InteractionFactory(
                    customer=customer,
                    channel="email",
                    occurred_at=AS_OF - dt.timedelta(days=day + 1),
                )
    return list(Customer.objects.order_by("pk"))[0::2]


def expected(customers: list[Customer]):
    by_npi = sorted(c.npi for c in customers)
    specialties = Counter(c.specialty for c in customers)
    return len(customers), by_npi[:SAMPLE_SIZE], specialties


EMAILS_OR_RX = {"any": [{"event": {"channel": "email", "kind": "opened"}, "within_days": 30}, RX]}


@pytest.mark.parametrize(
    "rule", [RX, SIX_EMAILS, EMAILS_OR_RX], ids=["per-customer", "grouped-count", "or"]
)
@pytest.mark.parametrize("few", [-1, 10**9], ids=["grouped-arms", "evaluated-once"])
def test_count_sample_and_breakdown_are_the_matches(prescribers, rule, few, monkeypatch):
    # Either form of the statement (FEW_MATCHES decides for hashed subqueries).
    monkeypatch.setattr("segmentation.services.preview.FEW_MATCHES", few)
    qs = fresh_members_query(entry_rule=rule, exit_rule=None, parent=None, as_of=AS_OF)
    count, sample, breakdown = summarise_matches(qs, breakdown=True)
    n, npis, specialties = expected(prescribers)
    assert count == n
    assert [row["npi"] for row in sample] == npis
    assert dict(breakdown["specialty"]) == dict(specialties)
    assert sum(k for _, k in breakdown["decile"]) == n


@pytest.mark.parametrize(
    ("rule", "grouped_form"), [(RX, True), (SIX_EMAILS, False)], ids=["per-customer", "count"]
)
def test_the_statement_form_follows_the_rule(rule, grouped_form):
    qs = fresh_members_query(entry_rule=rule, exit_rule=None, parent=None, as_of=AS_OF)
    sql, _ = summary_statement(qs, breakdown=True)
    postgres = connection.vendor == "postgresql"
    assert ("GROUPING SETS" in sql) == (postgres and grouped_form)
    assert sql.startswith("WITH m AS") == (not (postgres and grouped_form))


def test_no_matches_give_a_zero_count_and_no_breakdown(prescribers):
    rule = {**RX, "sum": {"op": "gte", "value": 500}}
    qs = fresh_members_query(entry_rule=rule, exit_rule=None, parent=None, as_of=AS_OF)
    assert summarise_matches(qs, breakdown=True) == (0, [], {})
