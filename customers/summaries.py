"""The summaries kept from the facts (InteractionRecency, RxYear), written by an import itself.

Every writer of interactions and rx facts keeps the summaries exact through the
tables' statement-level triggers (migrations 0009 and 0010; RxYear's made again
by migration 0015, InteractionRecency's insert by 0016). An import of a file
inserts its new rows in one statement and then writes their summaries itself,
from its staged rows, with the very statement the insert trigger runs
(``upsert_latest``, ``insert_sums``), in the same transaction (docs/imports.md,
"Summaries"). For that one INSERT the insert triggers step aside: they return
at once when the transaction-local setting ``customers.summaries_written_by``
is ``import`` (migration 0013), which ``written_by_import`` sets and clears
around the statement. Every other writer, and the import's own updates, still
go through the triggers. PostgreSQL only: on SQLite the row triggers do it all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

SETTING = "customers.summaries_written_by"
BY_IMPORT = "import"

# The statements are defined once, where the triggers that run them are made.
_recency = importlib.import_module("customers.migrations.0016_recency_merge_by_expressions")
_rx_year = importlib.import_module("customers.migrations.0015_rx_year_filtered_sums")


@contextmanager
def written_by_import(cursor) -> Iterator[None]:
    """The insert triggers of the facts step aside for the statements run inside."""
    cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, BY_IMPORT])
    try:
        yield
    finally:
        cursor.execute("SELECT set_config(%s, '', true)", [SETTING])


def add_interactions(cursor, source: str) -> None:
    """Merge the interactions of ``source`` (a table or an aliased subquery with
    customer_id, occurred_at, channel and topic) into InteractionRecency."""
    cursor.execute(_recency.upsert_latest(source))


def add_rx_facts(cursor, source: str) -> None:
    """Add the facts of ``source`` (customer_id, month, product and the metrics) to RxYear."""
    cursor.execute(_rx_year.insert_sums(source))
