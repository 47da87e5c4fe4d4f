"""Rx conditions read the per-year monthly sums (RxYear; docs/rules.md, "Rx by calendar year").

A window inside one calendar year is one row per customer, compared without
grouping; other windows sum their years' rows per customer. Either way the
answer is the facts' sum over the window's months.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from segmentation.rules import customer_filter
from segmentation.rules.compile import rx_year_amount
from segmentation.rules.windows import rx_window
from tests.factories import CustomerFactory, RxFactFactory

pytestmark = pytest.mark.django_db

MID_MARCH = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
MID_JANUARY = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


def nrx(months: int | None, at_least: int, product: str | None = None) -> dict:
    rule = {
        "rx": {} if product is None else {"product": product},
        "metric": "nrx",
        "sum": {"op": "gte", "value": at_least},
    }
    return rule if months is None else {**rule, "months": months}


def prescribing(npi: str, *months_and_nrx: tuple[dt.date, int], product: str = "CZ") -> None:
    customer = CustomerFactory(npi=npi)
    for month, value in months_and_nrx:
        RxFactFactory(customer=customer, month=month, product=product, nrx=value)


def statement(rule: dict, as_of: dt.datetime) -> str:
    q = customer_filter(rule, as_of=as_of, segment_version_id=lambda key: None)
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(q).values_list("id", flat=True))
    return queries.captured_queries[-1]["sql"].lower()


@pytest.mark.parametrize(
    ("as_of", "months", "years", "one_year"),
    [
        (MID_MARCH, 3, {"year": 2026}, True),
        (MID_MARCH, 1, {"year": 2026}, True),
        (dt.datetime(2026, 12, 31, tzinfo=dt.UTC), 12, {"year": 2026}, True),
        (MID_JANUARY, 2, {"year__gte": 2025, "year__lte": 2026}, False),
        (MID_MARCH, 13, {"year__gte": 2025, "year__lte": 2026}, False),
        (MID_MARCH, 30, {"year__gte": 2023, "year__lte": 2026}, False),
        (MID_MARCH, None, {"year__lte": 2026}, False),
    ],
)
def test_the_window_names_its_years(as_of, months, years, one_year):
    rows, _, single = rx_year_amount("nrx", *rx_window(as_of, months))
    assert single is one_year
    assert dict(rows.children) == years


def test_a_window_inside_one_year_reads_one_row_per_customer_without_grouping():
    prescribing("1000000001", (dt.date(2026, 2, 1), 2), (dt.date(2026, 3, 1), 1))
    sql = statement(nrx(3, 3), MID_MARCH)
    assert "customers_rxyear" in sql
    assert "customers_rxfact" not in sql
    assert "group by" not in sql


def test_a_window_crossing_new_year_sums_both_years_rows(matching):
    prescribing("1000000001", (dt.date(2025, 12, 1), 2), (dt.date(2026, 1, 1), 2))
    prescribing("1000000002", (dt.date(2025, 11, 1), 2), (dt.date(2026, 1, 1), 2))
    rule = nrx(2, 4)
    assert "group by" in statement(rule, MID_JANUARY)
    assert matching(rule, as_of=MID_JANUARY) == {"1000000001"}


def test_without_months_every_year_up_to_as_of_counts(matching):
    prescribing(
        "1000000001",
        (dt.date(2019, 6, 1), 1),
        (dt.date(2024, 1, 1), 1),
        (dt.date(2026, 3, 1), 1),
        (dt.date(2026, 4, 1), 5),  # after as_of's month: never
    )
    assert matching(nrx(None, 3), as_of=MID_MARCH) == {"1000000001"}
    assert matching(nrx(None, 4), as_of=MID_MARCH) == set()


def test_a_product_reads_its_own_sums_and_no_product_every_products(matching):
    prescribing("1000000001", (dt.date(2026, 3, 1), 2))
    customer = Customer.objects.get(npi="1000000001")
    RxFactFactory(customer=customer, month=dt.date(2026, 3, 1), product="OTHER", nrx=2)
    assert matching(nrx(1, 4), as_of=MID_MARCH) == {"1000000001"}
    assert matching(nrx(1, 3, product="CZ"), as_of=MID_MARCH) == set()
    assert matching(nrx(1, 2, product="CZ"), as_of=MID_MARCH) == {"1000000001"}


def test_an_rx_sum_under_a_narrowing_any_reads_the_narrowed_customers_only(partition):
    # docs/rules.md's "nested" shape: oncologists with a sum, or cardiologists.
    prescribing("1000000001", (dt.date(2026, 3, 1), 5))
    prescribing("1000000002", (dt.date(2026, 3, 1), 5))
    prescribing("1000000003", (dt.date(2026, 3, 1), 1))
    Customer.objects.filter(npi__in=["1000000001", "1000000003"]).update(specialty="oncology")
    Customer.objects.filter(npi="1000000002").update(specialty="dermatology")
    CustomerFactory(npi="1000000004", specialty="cardiology")
    rule = {
        "any": [
            {"field": "specialty", "op": "eq", "value": "cardiology"},
            {"all": [{"field": "specialty", "op": "eq", "value": "oncology"}, nrx(3, 5)]},
        ]
    }
    # The rule and its "not" split the customers exactly (``partition``).
    assert partition(rule, as_of=MID_MARCH) == {"1000000001", "1000000004"}
