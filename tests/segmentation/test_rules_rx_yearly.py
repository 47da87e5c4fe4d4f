"""Yearly rx facts (Part D) in rx conditions: counted exactly when the window holds
the whole year (docs/sources.md, "Yearly facts in rx conditions"). Monthly facts
keep docs/rules.md's semantics (the rest of the rx tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import RxAnnualFact
from tests.factories import CustomerFactory, RxFactFactory

pytestmark = pytest.mark.django_db

END_OF_JUNE_2025 = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)


def trx(months: int | None, at_least: int, product: str | None = "CARDIOZEN") -> dict:
    rule = {
        "rx": {} if product is None else {"product": product},
        "metric": "trx",
        "sum": {"op": "gte", "value": at_least},
    }
    return rule if months is None else {**rule, "months": months}


@pytest.fixture
def yearly():
    customer = CustomerFactory(npi="1000000001")
    RxAnnualFact.objects.create(customer=customer, year=2024, product="CARDIOZEN", trx=30)
    return customer


@pytest.mark.parametrize(
    ("months", "counted"),
    [
        (24, True),  # Jul 2023 - Jun 2025 holds all of 2024
        (18, True),  # Jan 2024 - Jun 2025: exactly from January
        (17, False),  # Feb 2024 - Jun 2025 misses January 2024
        (12, False),  # Jul 2024 - Jun 2025
        (None, True),  # every month up to June 2025
    ],
)
def test_a_yearly_fact_counts_when_the_window_holds_its_twelve_months(
    yearly, partition, months, counted
):
    matched = partition(trx(months, 30), as_of=END_OF_JUNE_2025)
    assert (yearly.npi in matched) is counted


def test_a_window_ending_in_december_holds_that_year():
    customer = CustomerFactory(npi="1000000002")
    RxAnnualFact.objects.create(customer=customer, year=2024, product="CARDIOZEN", trx=5)
    from customers.models import Customer
    from segmentation.rules import customer_filter

    def npis(months):
        q = customer_filter(
            trx(months, 5),
            as_of=dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
            segment_version_id=lambda key: None,
        )
        return set(Customer.objects.filter(q).values_list("npi", flat=True))

    assert npis(12) == {customer.npi}
    assert npis(11) == set()


def test_yearly_and_monthly_facts_add_up_and_every_product_reads_both(yearly, partition):
    RxFactFactory(customer=yearly, month=dt.date(2025, 3, 1), product="LIPIDAX", trx=4)
    RxFactFactory(customer=yearly, month=dt.date(2025, 5, 1), product="CARDIOZEN", trx=2)
    assert yearly.npi in partition(trx(24, 32), as_of=END_OF_JUNE_2025)
    assert yearly.npi not in partition(trx(24, 33), as_of=END_OF_JUNE_2025)
    assert yearly.npi in partition(trx(24, 36, product=None), as_of=END_OF_JUNE_2025)
    assert yearly.npi not in partition(trx(12, 3), as_of=END_OF_JUNE_2025)


def test_a_suppressed_yearly_fact_is_missing_not_zero(partition):
    customer = CustomerFactory(npi="1000000003")
    RxAnnualFact.objects.create(customer=customer, year=2024, product="CARDIOZEN", trx=None)
    eq_zero = {**trx(24, 0), "sum": {"op": "eq", "value": 0}}
    # Missing adds nothing: the sum is that of the facts present (none here).
    assert customer.npi in partition(eq_zero, as_of=END_OF_JUNE_2025)
    assert customer.npi not in partition(trx(24, 1), as_of=END_OF_JUNE_2025)


def test_deleting_or_changing_yearly_facts_keeps_the_sums_exact(yearly, partition):
    fact = RxAnnualFact.objects.get(customer=yearly)
    fact.trx = 10
    fact.save()
    assert yearly.npi not in partition(trx(24, 11), as_of=END_OF_JUNE_2025)
    assert yearly.npi in partition(trx(24, 10), as_of=END_OF_JUNE_2025)
    fact.delete()
    assert yearly.npi not in partition(trx(24, 1), as_of=END_OF_JUNE_2025)
