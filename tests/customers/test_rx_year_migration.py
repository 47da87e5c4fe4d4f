"""Migration customers/0006 backfills RxMonthlyTotal from the rx facts already there."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import RxFact, RxMonthlyTotal
from tests.factories import CustomerFactory
from tests.migrations import migrate_to, migrate_to_latest

from .helpers import assert_totals_exact

BEFORE_TOTALS = [("customers", "0005_interaction_time_covering")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_totals_from_existing_facts():
    customers = [CustomerFactory() for _ in range(3)]
    old_apps = migrate_to(BEFORE_TOTALS)
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

    assert RxMonthlyTotal.objects.count() == 9
    assert_totals_exact()
    # And the triggers are in place for what comes after.
    RxFact.objects.filter(product="P1").delete()
    assert_totals_exact()
