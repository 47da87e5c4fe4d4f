"""InteractionRecency's merge of a stored row with new times, as plain expressions.

When new interactions reach a (customer, facet) already stored, the insert
statement (migration 0009, ``upsert_latest``) keeps the KEPT latest of the
stored times and the new ones. It did so with a subquery per row: the ten
times unnested, sorted and aggregated again. Both lists are already sorted,
latest first, missing times last, so the k-th latest of the two together is
the latest among "the k-th of one list" and "the earlier of the i-th of the
stored and the (k - i)-th of the new" for i from 1 to k - 1: one ``GREATEST``
per column, no subquery. The kept times are the same, duplicates kept.

A day's feed of 1M interactions into the bench's 1M customers (2.4M rows
merged): 23.6-26.9 s against 30.9-34.1 s (bench/README.md, "The latest
times merged without a subquery"). The insert function on
``customers_interaction`` is made again with the new statement (keeping the
import's guard, migration 0013), and an import merges its new rows with the
same ``upsert_latest`` (customers/summaries.py). PostgreSQL only: SQLite's
row triggers recompute the touched rows.
"""

import importlib

from django.db import migrations

recency = importlib.import_module("customers.migrations.0009_interaction_recency")
guarded = importlib.import_module("customers.migrations.0013_summaries_written_by_import")


def _earlier(a: str, b: str) -> str:
    """The earlier of two times, missing (NULL) when either is: LEAST would skip a NULL."""
    return f"CASE WHEN {a} <= {b} THEN {a} WHEN {b} < {a} THEN {b} END"


def _kth(k: int) -> str:
    """The k-th latest of the stored times (t) and the new ones (EXCLUDED), each list
    latest first with its missing times last; NULL when there are fewer than k."""
    candidates = [f"t.last_{k}", f"EXCLUDED.last_{k}"]
    candidates += [_earlier(f"t.last_{i}", f"EXCLUDED.last_{k - i}") for i in range(1, k)]
    return f"GREATEST({', '.join(candidates)})"


MERGED = "(" + ", ".join(_kth(k) for k in range(1, recency.KEPT + 1)) + ")"


def upsert_latest(source: str) -> str:
    """The statement merging ``source``'s rows (interactions just inserted) into
    InteractionRecency: the insert trigger's, and the import's (customers/summaries.py)."""
    return recency.upsert_latest(source, MERGED)


def _make(schema_editor, statement: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    name = f"{recency.RECENCY}_on_insert"
    schema_editor.execute(guarded._function(name, statement, guarded=True), None)


def forward(apps, schema_editor):
    _make(schema_editor, upsert_latest("new_rows"))


def backward(apps, schema_editor):
    _make(schema_editor, recency.upsert_latest("new_rows"))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0015_rx_year_filtered_sums"),
    ]

    operations = [migrations.RunPython(forward, backward)]
