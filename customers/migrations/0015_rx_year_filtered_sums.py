"""RxYear's month columns summed with FILTER instead of CASE: the same sums, less work.

Every rx fact adds its metrics to the columns of its month (migration 0010).
The grouped statements wrote each column as ``SUM(CASE WHEN m = 7 THEN trx
ELSE 0 END)``, so every fact ran the sum's step for all 36 columns.
``COALESCE(SUM(trx) FILTER (WHERE m = 7), 0)`` runs it only for the fact's own
month, and a key with no fact in a month still gets 0. The insert, update and
delete functions on ``customers_rxfact`` are made again with the new
statements (the insert function keeps the import's guard, migration 0013), and
an import writes its new facts' sums with the same ``insert_sums``
(customers/summaries.py). One million rx facts into an empty RxYear: 6.6-9.4 s
against 7.4-10.2 s (bench/README.md, "M' planned on its own"). PostgreSQL
only: SQLite's row triggers add one fact at a time.
"""

import importlib
from collections.abc import Callable

from django.db import migrations

rx_year = importlib.import_module("customers.migrations.0010_rx_year")
guarded = importlib.import_module("customers.migrations.0013_summaries_written_by_import")


def _pivot(facts: str) -> str:
    """Per key, each month's summed metrics as columns, and whether a new row has the key."""
    sums = ", ".join(
        f"COALESCE(SUM({m}) FILTER (WHERE m = {i}), 0) AS {m}_{i}"
        for m in rx_year.METRICS
        for i in rx_year.MONTHS
    )
    return (
        f"SELECT {rx_year.KEY}, {sums}, bool_or(is_new) AS has_new "
        f"FROM ({facts}) f GROUP BY {rx_year.KEY}"
    )


def insert_sums(source: str) -> str:
    """The statement adding ``source``'s facts (rows just inserted) to RxYear: the
    insert trigger's, and the import's (customers/summaries.py)."""
    return rx_year.insert_sums(source, _pivot)


def _make(schema_editor, pivot: Callable[[str], str]) -> None:
    """The three functions made again on ``pivot``; the insert function keeps the
    import's guard (migration 0013)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for event, body in rx_year.bodies(pivot).items():
        name = f"{rx_year.YEAR}_on_{event}"
        schema_editor.execute(guarded._function(name, body, guarded=event == "insert"), None)


def forward(apps, schema_editor):
    _make(schema_editor, _pivot)


def backward(apps, schema_editor):
    _make(schema_editor, rx_year._pivot)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0014_customer_inactive_index"),
    ]

    operations = [migrations.RunPython(forward, backward)]
