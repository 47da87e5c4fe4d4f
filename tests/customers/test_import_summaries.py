"""An import writes the summaries of the facts it inserts itself, and they are exact.

On PostgreSQL the import inserts a file's new interactions and rx facts with
the insert triggers stepping aside (the transaction-local setting of
customers/summaries.py), then merges their summaries from its staged rows
with the triggers' own statement. Whatever the mix (new customers, customers
with earlier interactions and facts, re-imports that change rows), the
summaries equal a rebuild from scratch (computed in Python from the facts),
and writers after the import, in the same transaction too, go through the
triggers again. On SQLite the row triggers do it all, with the same result.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from customers import summaries
from customers.models import Interaction, InteractionRecency, RxFact
from tests.factories import CustomerFactory, InteractionFactory, valid_npi

from .helpers import assert_recency_exact, assert_totals_exact, run_import

pytestmark = pytest.mark.django_db

INTERACTIONS = "npi,occurred_at,channel,kind,topic,asset,external_id"
RX = "npi,month,product,nrx,trx,new_patient_starts"


def _customers(count: int) -> list:
    return [CustomerFactory(npi=valid_npi(1000 + i)) for i in range(count)]


def _interaction_rows(customers, start: int, count: int, *, tag: str = "X") -> list[str]:
    channels, topics = ["email", "webinar", "rep_visit"], ["", "safety", "efficacy"]
    return [
        f"{customers[i % len(customers)].npi},2026-01-{1 + (start + i) % 28:02d}T"
        f"{(start + i) % 24:02d}:00:00Z,{channels[i % 3]},opened,{topics[(i // 3) % 3]},,"
        f"{tag}-{start + i}"
        for i in range(count)
    ]


def test_imported_interactions_summaries_equal_a_rebuild():
    customers = _customers(6)
    # Earlier interactions through another writer (the triggers): the import merges.
    for i, customer in enumerate(customers[:3]):
        InteractionFactory(
            customer=customer,
            occurred_at=dt.datetime(2026, 1, 20 + i, tzinfo=dt.UTC),
            channel="webinar",
            topic="safety",
        )
    result = run_import("interactions", INTERACTIONS, *_interaction_rows(customers, 0, 60))
    assert result.created == 60
    assert_recency_exact()
    # A second file: new rows and rows of the first that change (an update).
    changed = [
        row.replace(",opened,", ",clicked,").replace("T0", "T1", 1)
        for row in _interaction_rows(customers, 0, 10)
    ]
    run_import("interactions", INTERACTIONS, *changed, *_interaction_rows(customers, 60, 30))
    assert Interaction.objects.count() == 3 + 90
    assert_recency_exact()


def test_imported_rx_facts_summaries_equal_a_rebuild():
    customers = _customers(4)
    RxFact.objects.create(
        customer=customers[0], month=dt.date(2026, 2, 1), product="LIPITRA", nrx=1, trx=2,
        new_patient_starts=0,
    )  # fmt: skip
    rows = [
        f"{c.npi},2026-{m:02d},{p},{m},{m + k},{k % 3}"
        for k, c in enumerate(customers)
        for m in (1, 2, 3)
        for p in ("CARDIOZEN", "RENALIX")
    ]
    run_import("rx", RX, *rows)
    assert_totals_exact()
    run_import("rx", RX, *(r.replace(",CARDIOZEN,", ",LIPITRA,") for r in rows[:6]), rows[6])
    assert_totals_exact()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL triggers only")
def test_after_an_import_other_writers_go_through_the_triggers_again():
    customers = _customers(2)
    with transaction.atomic():
        run_import("interactions", INTERACTIONS, *_interaction_rows(customers, 0, 4))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [summaries.SETTING])
            assert cursor.fetchone()[0] in ("", None)
        late = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        InteractionFactory(customer=customers[1], occurred_at=late, channel="portal")
        assert InteractionRecency.objects.get(customer=customers[1], facet="").last_1 == late
    assert_recency_exact()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL triggers only")
def test_the_setting_makes_the_insert_trigger_step_aside_only_when_set():
    customer = _customers(1)[0]
    with connection.cursor() as cursor, summaries.written_by_import(cursor):
        InteractionFactory(customer=customer)
    assert not InteractionRecency.objects.filter(customer=customer).exists()
    with connection.cursor() as cursor:
        summaries.add_interactions(cursor, "customers_interaction")
    assert_recency_exact()
