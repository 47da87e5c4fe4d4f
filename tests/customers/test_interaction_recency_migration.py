"""Migration customers/0009 backfills InteractionRecency from the interactions already there;
migration 0016 merges new times with stored ones by expressions, and going back restores
the subquery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from customers.models import Interaction, InteractionRecency
from tests.factories import CustomerFactory
from tests.migrations import migrate_to, migrate_to_latest

from .helpers import assert_recency_exact

BEFORE_RECENCY = [("customers", "0008_interaction_customer_time")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_recency_from_existing_interactions():
    customers = [CustomerFactory() for _ in range(3)]
    old_apps = migrate_to(BEFORE_RECENCY)
    OldInteraction = old_apps.get_model("customers", "Interaction")
    OldInteraction.objects.bulk_create(
        OldInteraction(
            customer_id=c.pk,
            occurred_at=dt.datetime(2026, 1, day, 12, tzinfo=dt.UTC),
            channel=("email", "webinar")[day % 2],
            kind="opened",
            topic=("", "safety", "dosing")[day % 3],
            # Two interactions at the same instant on day 4 (counted twice).
            asset=asset,
        )
        for i, c in enumerate(customers)
        for day in range(1, 3 + 3 * i)
        for asset in (("a", "b") if day == 4 else ("",))
    )

    migrate_to_latest()

    assert InteractionRecency.objects.filter(facet="").count() == 3
    assert InteractionRecency.objects.filter(customer=customers[2], facet="").values_list(
        "last_1", "last_2", "last_3", "last_4", "last_5"
    ).get() == tuple(dt.datetime(2026, 1, d, 12, tzinfo=dt.UTC) for d in (8, 7, 6, 5, 4))
    assert_recency_exact()
    # And the triggers are in place for what comes after.
    Interaction.objects.filter(channel="webinar").delete()
    Interaction.objects.filter(customer=customers[2]).update(topic="access")
    assert_recency_exact()


def _insert_function() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'customers_interactionrecency_on_insert'"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL triggers only")
@pytest.mark.django_db(transaction=True)
def test_0016_merges_without_a_subquery_and_going_back_restores_it():
    guard = "current_setting('customers.summaries_written_by', true) = 'import'"
    assert "GREATEST(t.last_1, EXCLUDED.last_1)" in _insert_function()
    assert "unnest" not in _insert_function()
    assert guard in _insert_function()
    migrate_to([("customers", "0015_rx_year_filtered_sums")])
    assert "unnest(ARRAY[t.last_1" in _insert_function()
    assert "GREATEST" not in _insert_function()
    assert guard in _insert_function()
    migrate_to_latest()
    assert "GREATEST(t.last_1, EXCLUDED.last_1)" in _insert_function()
    # The trigger keeps the times exact after the round trip, merging with stored rows.
    customer = CustomerFactory()
    for days in ((2, 4, 6), (1, 5, 7, 9)):
        Interaction.objects.bulk_create(
            Interaction(
                customer=customer,
                occurred_at=dt.datetime(2026, 1, day, 12, tzinfo=dt.UTC),
                channel="email",
                kind="opened",
            )
            for day in days
        )
    assert_recency_exact()
