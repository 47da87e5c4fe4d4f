"""Migration customers/0010 backfills RxYear from the rx facts already there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from customers.models import RxFact, RxYear
from tests.factories import CustomerFactory
from tests.migrations import migrate_to, migrate_to_latest

from .helpers import assert_totals_exact

BEFORE_YEARS = [("customers", "0009_interaction_recency")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_years_from_existing_facts():
    customers = [CustomerFactory() for _ in range(3)]
    old_apps = migrate_to(BEFORE_YEARS)
    OldRxFact = old_apps.get_model("customers", "RxFact")
    OldRxFact.objects.bulk_create(
        OldRxFact(
            customer_id=c.pk,
            month=dt.date(2026, m, 1),
            product=p,
            nrx=i + m,
            trx=2 * i,
            new_patient_starts=m % 2,
        )
        for i, c in enumerate(customers)
        for m in (1, 2, 3)
        for p in ("P1", "P2")
    )

    migrate_to_latest()

    # Three customers, each with P1, P2 and every product ("") in 2026.
    assert RxYear.objects.count() == 9
    assert_totals_exact()
    # And the triggers are in place for what comes after.
    RxFact.objects.filter(product="P1").delete()
    assert_totals_exact()


@pytest.mark.django_db(transaction=True)
def test_going_back_restores_the_monthly_totals_and_their_triggers():
    customer = CustomerFactory()
    RxFact.objects.create(
        customer=customer,
        month=dt.date(2026, 1, 1),
        product="P1",
        nrx=1,
        trx=2,
        new_patient_starts=3,
    )
    old_apps = migrate_to(BEFORE_YEARS)
    OldRxFact = old_apps.get_model("customers", "RxFact")
    OldRxMonthlyTotal = old_apps.get_model("customers", "RxMonthlyTotal")
    # Backfilled going back, then kept by the facts' triggers again.
    OldRxFact.objects.create(
        customer_id=customer.pk,
        month=dt.date(2026, 1, 1),
        product="P2",
        nrx=10,
        trx=20,
        new_patient_starts=30,
    )
    total = OldRxMonthlyTotal.objects.get(customer_id=customer.pk, month=dt.date(2026, 1, 1))
    assert (total.nrx, total.trx, total.new_patient_starts) == (11, 22, 33)
    migrate_to_latest()
    assert_totals_exact()


def _function_source(event: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = %s", [f"customers_rxyear_on_{event}"]
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL triggers only")
@pytest.mark.django_db(transaction=True)
def test_0015_sums_each_month_with_a_filter_and_going_back_restores_case():
    guard = "current_setting('customers.summaries_written_by', true) = 'import'"
    for event in ("insert", "update", "delete"):
        assert "FILTER (WHERE m = 12)" in _function_source(event)
    assert guard in _function_source("insert")
    migrate_to([("customers", "0014_customer_inactive_index")])
    for event in ("insert", "update", "delete"):
        assert "CASE WHEN m = 12" in _function_source(event)
        assert "FILTER" not in _function_source(event)
    assert guard in _function_source("insert")
    migrate_to_latest()
    assert "FILTER (WHERE m = 12)" in _function_source("update")
    # The triggers keep the sums exact after the round trip.
    customer = CustomerFactory()
    fact = RxFact.objects.create(
        customer=customer,
        month=dt.date(2026, 12, 1),
        product="P1",
        nrx=4,
        trx=5,
        new_patient_starts=6,
    )
    RxFact.objects.filter(pk=fact.pk).update(trx=7)
    assert_totals_exact()
    RxFact.objects.filter(pk=fact.pk).delete()
    assert_totals_exact()
