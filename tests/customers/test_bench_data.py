"""The bench's bulk load writes the summaries the triggers would have written.

bench/bench_data.py loads interactions and rx facts with their summary
triggers disabled and their indexes dropped, then backfills InteractionRecency
and RxYear and builds the indexes (bench/README.md, "Bench data"). At a small
scale: the summaries equal the ones computed in Python from the facts, and
``check_summaries`` (every fact deleted and inserted again through the
triggers) finds no difference; the indexes and constraints are all back.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from customers.importing.fields import npi_check_digit_valid
from customers.models import Customer, Interaction, InteractionRecency, RxFact, RxYear

from .helpers import assert_recency_exact, assert_totals_exact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="PostgreSQL only (generate_series)"
    ),
]


def _schema(table: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'index', pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass "
            "UNION ALL SELECT 'constraint', conname || ' ' || pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = %s::regclass "
            "UNION ALL SELECT 'trigger', tgname || ' ' || tgenabled::text FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table, table, table],
        )
        return set(cursor.fetchall())


def test_bulk_generated_summaries_are_the_triggers():
    from bench.bench_data import check_summaries, generate

    tables = [
        "customers_customer",
        "customers_customerattribute",
        "customers_interaction",
        "customers_rxfact",
        "customers_interactionrecency",
        "customers_rxyear",
    ]
    before = {t: _schema(t) for t in tables}
    generate(300, 6000, 0.2, dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC))
    assert Interaction.objects.count() == 6000
    npis = list(Customer.objects.values_list("npi", flat=True))
    assert len(npis) == 300 and all(npi_check_digit_valid(n) for n in npis)
    assert RxFact.objects.exists() and RxYear.objects.exists()
    assert InteractionRecency.objects.exists()
    after = {t: _schema(t) for t in tables}
    assert {t: after[t] ^ before[t] for t in tables} == {t: set() for t in tables}
    assert_recency_exact()
    assert_totals_exact()
    differences = check_summaries()
    assert {table: differ for table, (_, differ) in differences.items()} == {
        "customers_interactionrecency": 0,
        "customers_rxyear": 0,
    }
    assert all(rows for rows, _ in differences.values())
