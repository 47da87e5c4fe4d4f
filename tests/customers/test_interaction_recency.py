"""InteractionRecency stays each customer's latest interaction times, whatever writes them.

The triggers of migration customers/0009 keep it (docs/rules.md, "Latest
interactions"): per customer and facet ("" for every interaction,
"channel:<c>", "topic:<t>" for a non-empty topic) the five latest
``occurred_at``, latest first, equal times once per interaction, NULL beyond;
no row without an interaction in the facet. Every test writes interactions
one way and compares the table with the one computed in Python.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.models import Customer, Interaction, InteractionRecency
from tests.app_role import app_role_cursor
from tests.factories import CustomerFactory, InteractionFactory, valid_npi

from .helpers import RECENCY_LASTS, assert_recency_exact, run_import

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL only (statement-level triggers)"
)


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, tzinfo=dt.UTC)


def _lasts(customer, facet: str = "") -> tuple | None:
    """The stored (last_1, ..., last_5) of ``customer`` in ``facet``; None without a row."""
    row = InteractionRecency.objects.filter(customer=customer, facet=facet)
    return row.values_list(*RECENCY_LASTS).first()


def _facets(customer) -> set[str]:
    return set(InteractionRecency.objects.filter(customer=customer).values_list("facet", flat=True))


def _padded(*moments) -> tuple:
    return (*moments, *[None] * (5 - len(moments)))


def _interactions(customer, *days: int, channel: str = "email", topic: str = "") -> list:
    """Unsaved interactions of ``customer``, one a day at noon."""
    return [
        Interaction(
            customer=customer, occurred_at=at(d), channel=channel, kind="opened", topic=topic
        )
        for d in days
    ]


# -- Inserts -------------------------------------------------------------------------


def test_one_interaction_is_the_latest_in_each_of_its_facets():
    interaction = InteractionFactory(occurred_at=at(3), channel="webinar", topic="safety")
    customer = interaction.customer
    assert _facets(customer) == {"", "channel:webinar", "topic:safety"}
    for facet in ("", "channel:webinar", "topic:safety"):
        assert _lasts(customer, facet) == _padded(at(3))
    assert_recency_exact()


def test_interactions_inserted_out_of_order_are_kept_latest_first():
    customer = CustomerFactory()
    for day in (5, 2, 9, 4):
        InteractionFactory(customer=customer, occurred_at=at(day))
    assert _lasts(customer) == _padded(at(9), at(5), at(4), at(2))
    assert_recency_exact()


def test_only_the_five_latest_are_kept():
    customer = CustomerFactory()
    for day in (1, 7, 3, 6, 2, 5, 4):
        InteractionFactory(customer=customer, occurred_at=at(day))
    assert _lasts(customer) == (at(7), at(6), at(5), at(4), at(3))
    assert_recency_exact()


def test_an_earlier_interaction_than_the_five_kept_changes_nothing():
    customer = CustomerFactory()
    Interaction.objects.bulk_create(_interactions(customer, 5, 6, 7, 8, 9))
    InteractionFactory(customer=customer, occurred_at=at(1))
    assert _lasts(customer) == (at(9), at(8), at(7), at(6), at(5))
    assert_recency_exact()


def test_two_interactions_at_the_same_instant_count_twice():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=at(4), asset="leaflet-a")
    InteractionFactory(customer=customer, occurred_at=at(4), asset="leaflet-b")
    InteractionFactory(customer=customer, occurred_at=at(2))
    assert _lasts(customer) == _padded(at(4), at(4), at(2))
    assert_recency_exact()


def test_times_a_fraction_of_a_second_apart_are_ordered():
    customer = CustomerFactory()
    for moment in (at(4), at(4) + dt.timedelta(microseconds=500_000), at(3)):
        InteractionFactory(customer=customer, occurred_at=moment)
    assert _lasts(customer) == _padded(at(4) + dt.timedelta(microseconds=500_000), at(4), at(3))
    assert_recency_exact()


def test_a_topicless_interaction_has_no_topic_row():
    interaction = InteractionFactory(occurred_at=at(3), channel="email", topic="")
    assert _facets(interaction.customer) == {"", "channel:email"}
    assert_recency_exact()


def test_each_channel_and_topic_is_its_own_facet():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=at(1), channel="email", topic="safety")
    InteractionFactory(customer=customer, occurred_at=at(2), channel="webinar", topic="safety")
    InteractionFactory(customer=customer, occurred_at=at(3), channel="email", topic="dosing")
    assert _lasts(customer, "channel:email") == _padded(at(3), at(1))
    assert _lasts(customer, "channel:webinar") == _padded(at(2))
    assert _lasts(customer, "topic:safety") == _padded(at(2), at(1))
    assert _lasts(customer, "topic:dosing") == _padded(at(3))
    assert _lasts(customer) == _padded(at(3), at(2), at(1))
    assert_recency_exact()


def test_bulk_create_across_customers_is_kept_exact():
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    Interaction.objects.bulk_create(
        _interactions(first, 3, 1, 8, 2, 6, 7, 4)
        + _interactions(second, 5, 2, channel="webinar", topic="efficacy")
        + _interactions(third, 9, channel="phone")
        + _interactions(first, 5, channel="rep_visit", topic="access")
    )
    assert _lasts(first) == (at(8), at(7), at(6), at(5), at(4))
    assert _lasts(second, "topic:efficacy") == _padded(at(5), at(2))
    assert _lasts(third, "channel:phone") == _padded(at(9))
    assert_recency_exact()


def test_bulk_create_merges_with_the_stored_times():
    customer = CustomerFactory()
    Interaction.objects.bulk_create(_interactions(customer, 2, 4, 6))
    Interaction.objects.bulk_create(_interactions(customer, 1, 5, 7, channel="webinar"))
    assert _lasts(customer) == (at(7), at(6), at(5), at(4), at(2))
    assert _lasts(customer, "channel:email") == _padded(at(6), at(4), at(2))
    assert_recency_exact()


@settings(max_examples=40, deadline=None)
@given(
    stored=st.lists(st.integers(min_value=1, max_value=9), max_size=7),
    incoming=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=7),
)
def test_new_times_merge_with_the_stored_ones_ties_and_gaps_included(stored, incoming):
    """Two writes of few days (equal times likely, fewer than five often): the second
    merges its times with those the first stored (migration 0016's expressions on
    PostgreSQL), and the table equals the one computed from the interactions."""
    try:
        with transaction.atomic():
            customer = CustomerFactory()
            for batch, days in enumerate((stored, incoming)):
                # A distinct asset each: equal times are separate interactions.
                Interaction.objects.bulk_create(
                    Interaction(
                        customer=customer,
                        occurred_at=at(day),
                        channel="email",
                        kind="opened",
                        asset=f"{batch}-{n}",
                    )
                    for n, day in enumerate(days)
                )
            assert_recency_exact()
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass


def test_interaction_import_is_kept_exact():
    npi, other = valid_npi(1), valid_npi(2)
    customer = CustomerFactory(npi=npi)
    CustomerFactory(npi=other)
    InteractionFactory(customer=customer, occurred_at=at(3))
    run_import(
        "interactions",
        "npi,occurred_at,channel,kind,topic,asset,external_id",
        f"{npi},2026-01-05T12:00:00Z,webinar,attended,safety,,E-1",
        f"{npi},2026-01-01T12:00:00Z,email,opened,,,",
        f"{other},2026-01-02T14:00:00+02:00,phone,called,dosing,,",
    )
    assert _lasts(customer) == _padded(at(5), at(3), at(1))
    assert _lasts(Customer.objects.get(npi=other), "topic:dosing") == _padded(at(2, 12))
    assert_recency_exact()


def test_interaction_import_updating_by_external_id_is_kept_exact():
    npi, other = valid_npi(1), valid_npi(2)
    customer, moved_to = CustomerFactory(npi=npi), CustomerFactory(npi=other)
    header = "npi,occurred_at,channel,kind,topic,external_id"
    run_import(
        "interactions",
        header,
        f"{npi},2026-01-05T12:00:00Z,webinar,attended,safety,E-1",
        f"{npi},2026-01-03T12:00:00Z,email,opened,safety,E-2",
    )
    run_import(
        "interactions",
        header,
        f"{npi},2026-01-01T12:00:00Z,webinar,attended,,E-1",
        f"{other},2026-01-04T12:00:00Z,email,opened,safety,E-2",
    )
    assert _lasts(customer) == _padded(at(1))
    assert _facets(customer) == {"", "channel:webinar"}
    assert _lasts(moved_to, "topic:safety") == _padded(at(4))
    assert_recency_exact()


def test_raw_sql_insert_is_kept_exact():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=at(2))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO customers_interaction (customer_id, occurred_at, channel, kind, "
            "topic, asset, created_at) VALUES (%s, %s, %s, 'opened', %s, '', %s)",
            [
                [
                    customer.pk,
                    connection.ops.adapt_datetimefield_value(at(d)),
                    channel,
                    topic,
                    connection.ops.adapt_datetimefield_value(at(20)),
                ]
                for d, channel, topic in ((4, "email", "safety"), (1, "portal", ""))
            ],
        )
    assert _lasts(customer) == _padded(at(4), at(2), at(1))
    assert _facets(customer) == {"", "channel:email", "channel:portal", "topic:safety"}
    assert_recency_exact()


# -- Updates -------------------------------------------------------------------------


def test_moving_an_interaction_later_makes_it_the_latest():
    customer = CustomerFactory()
    early = InteractionFactory(customer=customer, occurred_at=at(1))
    InteractionFactory(customer=customer, occurred_at=at(5), channel="webinar")
    early.occurred_at = at(9)
    early.save()
    assert _lasts(customer) == _padded(at(9), at(5))
    assert _lasts(customer, "channel:email") == _padded(at(9))
    assert_recency_exact()


def test_moving_the_latest_interaction_earlier_recomputes_the_order():
    customer = CustomerFactory()
    latest = InteractionFactory(customer=customer, occurred_at=at(9))
    Interaction.objects.bulk_create(_interactions(customer, 3, 4, 5, 6, 7))
    latest.occurred_at = at(1)
    latest.save()
    assert _lasts(customer) == (at(7), at(6), at(5), at(4), at(3))
    assert_recency_exact()


def test_changing_only_the_kind_leaves_the_rows_as_they_were():
    interaction = InteractionFactory(occurred_at=at(4), topic="safety")
    before = set(InteractionRecency.objects.values_list("facet", *RECENCY_LASTS))
    interaction.kind = "clicked"
    interaction.save()
    assert set(InteractionRecency.objects.values_list("facet", *RECENCY_LASTS)) == before
    assert_recency_exact()


def test_changing_the_channel_moves_between_channel_facets():
    customer = CustomerFactory()
    interaction = InteractionFactory(customer=customer, occurred_at=at(4), channel="email")
    InteractionFactory(customer=customer, occurred_at=at(2), channel="email")
    interaction.channel = "webinar"
    interaction.save()
    assert _lasts(customer, "channel:email") == _padded(at(2))
    assert _lasts(customer, "channel:webinar") == _padded(at(4))
    assert _lasts(customer) == _padded(at(4), at(2))
    assert_recency_exact()


def test_changing_the_customer_moves_between_customers():
    old, new = CustomerFactory(), CustomerFactory()
    interaction = InteractionFactory(customer=old, occurred_at=at(4), topic="safety")
    InteractionFactory(customer=old, occurred_at=at(2))
    InteractionFactory(customer=new, occurred_at=at(3))
    interaction.customer = new
    interaction.save()
    assert _lasts(old) == _padded(at(2))
    assert _facets(old) == {"", "channel:email"}
    assert _lasts(new) == _padded(at(4), at(3))
    assert _lasts(new, "topic:safety") == _padded(at(4))
    assert_recency_exact()


def test_clearing_the_only_topic_removes_its_row():
    interaction = InteractionFactory(occurred_at=at(4), topic="safety")
    interaction.topic = ""
    interaction.save()
    assert _facets(interaction.customer) == {"", "channel:email"}
    assert_recency_exact()


def test_clearing_one_of_two_topics_keeps_the_other():
    customer = CustomerFactory()
    cleared = InteractionFactory(customer=customer, occurred_at=at(4), topic="safety")
    InteractionFactory(customer=customer, occurred_at=at(2), topic="safety", asset="a")
    cleared.topic = ""
    cleared.save()
    assert _lasts(customer, "topic:safety") == _padded(at(2))
    assert_recency_exact()


def test_queryset_update_of_many_rows_is_kept_exact():
    customers = [CustomerFactory() for _ in range(3)]
    Interaction.objects.bulk_create(
        [i for c in customers for i in _interactions(c, 1, 2, 3, 4, 5, 6, topic="safety")]
    )
    Interaction.objects.filter(occurred_at__gte=at(5)).update(channel="webinar", topic="")
    Interaction.objects.filter(occurred_at=at(1)).update(occurred_at=at(20))
    Interaction.objects.filter(customer=customers[0], occurred_at=at(2)).update(
        customer=customers[1], asset="moved"
    )
    assert _lasts(customers[0]) == (at(20), at(6), at(5), at(4), at(3))
    assert _lasts(customers[0], "topic:safety") == _padded(at(20), at(4), at(3))
    assert _lasts(customers[1], "channel:email") == (at(20), at(4), at(3), at(2), at(2))
    assert_recency_exact()


# -- Deletes -------------------------------------------------------------------------


def test_deleting_an_interaction_recomputes_its_rows():
    customer = CustomerFactory()
    Interaction.objects.bulk_create(_interactions(customer, 1, 2, 3, 4, 5, 6))
    Interaction.objects.get(customer=customer, occurred_at=at(5)).delete()
    assert _lasts(customer) == (at(6), at(4), at(3), at(2), at(1))
    assert_recency_exact()


def test_deleting_the_last_interaction_of_a_facet_removes_its_row():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, occurred_at=at(1))
    webinar = InteractionFactory(
        customer=customer, occurred_at=at(2), channel="webinar", topic="dosing"
    )
    webinar.delete()
    assert _facets(customer) == {"", "channel:email"}
    assert _lasts(customer) == _padded(at(1))
    assert_recency_exact()


def test_deleting_a_customers_only_interaction_removes_all_its_rows():
    interaction = InteractionFactory(occurred_at=at(1), topic="safety")
    interaction.delete()
    assert _facets(interaction.customer) == set()
    assert_recency_exact()


def test_queryset_delete_is_kept_exact():
    customers = [CustomerFactory() for _ in range(2)]
    Interaction.objects.bulk_create(
        [i for c in customers for i in _interactions(c, 1, 2, 3, 4, 5, 6, 7, topic="access")]
        + _interactions(customers[1], 8, channel="phone")
    )
    Interaction.objects.filter(occurred_at__in=[at(7), at(5)]).delete()
    Interaction.objects.filter(channel="phone").delete()
    assert _lasts(customers[0]) == (at(6), at(4), at(3), at(2), at(1))
    assert "channel:phone" not in _facets(customers[1])
    assert_recency_exact()


def test_deleting_a_customer_removes_its_rows():
    gone, kept = CustomerFactory(), CustomerFactory()
    Interaction.objects.bulk_create(
        _interactions(gone, 1, 2, topic="safety") + _interactions(kept, 3, 4)
    )
    gone.delete()
    assert not InteractionRecency.objects.filter(customer_id=gone.pk).exists()
    assert _lasts(kept) == _padded(at(4), at(3))
    assert_recency_exact()


def test_deleting_customers_in_bulk_removes_their_rows():
    customers = [CustomerFactory() for _ in range(3)]
    Interaction.objects.bulk_create([i for c in customers for i in _interactions(c, 1, 2)])
    Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).delete()
    assert set(InteractionRecency.objects.values_list("customer_id", flat=True)) == {
        customers[2].pk
    }
    assert_recency_exact()


# -- PostgreSQL only -----------------------------------------------------------------


@postgres_only
def test_truncating_the_interactions_empties_the_table():
    Interaction.objects.bulk_create(_interactions(CustomerFactory(), 1, 2, topic="safety"))
    assert InteractionRecency.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
        cursor.execute("TRUNCATE customers_interaction")
    assert not InteractionRecency.objects.exists()
    assert_recency_exact()


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_role_writes_interactions_through_the_triggers():
    customer, other = CustomerFactory(), CustomerFactory()
    with app_role_cursor() as cursor:
        insert = (
            "INSERT INTO customers_interaction (customer_id, occurred_at, channel, kind, "
            "topic, asset, created_at) VALUES (%s, %s, %s, 'opened', %s, '', now())"
        )
        cursor.executemany(
            insert,
            [
                (customer.pk, at(1), "email", "safety"),
                (customer.pk, at(2), "webinar", ""),
                (customer.pk, at(3), "email", ""),
            ],
        )
        cursor.execute(
            "UPDATE customers_interaction SET occurred_at = %s WHERE occurred_at = %s",
            [at(9), at(1)],
        )
        cursor.execute(
            "UPDATE customers_interaction SET customer_id = %s WHERE channel = 'webinar'",
            [other.pk],
        )
        cursor.execute("DELETE FROM customers_interaction WHERE occurred_at = %s", [at(3)])
        cursor.execute(
            "SELECT facet, last_1, last_2 FROM customers_interactionrecency "
            "WHERE customer_id = %s ORDER BY facet",
            [customer.pk],
        )
        assert cursor.fetchall() == [
            ("", at(9), None),
            ("channel:email", at(9), None),
            ("topic:safety", at(9), None),
        ]
    assert _lasts(other, "channel:webinar") == _padded(at(2))
    assert_recency_exact()
