"""The import writes the summaries of the facts it inserts; its facts carry no database FK.

1. The insert triggers of interactions (InteractionRecency, migration 0009) and
   rx facts (RxYear, migration 0010) return at once when the transaction-local
   setting ``customers.summaries_written_by`` is ``import``: an import then
   writes the summaries of its new rows itself, with the same statement, from
   its staged rows (customers/summaries.py). Any other writer leaves the
   setting empty and goes through the triggers as before.
2. The interactions, the rx facts and their two summaries lose their database
   foreign keys to the customer (PostgreSQL): each was checked once per new
   row at commit, 10 s of a million-row import. The import checks the
   references of the whole file in one query and locks the customers it
   writes facts for (customers/importing/writers.py); the other writers name
   a customer the ORM has loaded; deleting a customer deletes its facts
   (on_delete=CASCADE, run by Django). SQLite keeps its constraints (the state
   is the same).
3. The interactions' (customer, channel, kind, occurred_at) index goes: its one
   reader, an event condition probed per customer, is served as well by
   (customer, occurred_at) over the customer's few dozen rows (docs/scaling.md,
   "The interaction indexes and their readers").
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

recency = importlib.import_module("customers.migrations.0009_interaction_recency")
rx_year = importlib.import_module("customers.migrations.0010_rx_year")

SETTING = "customers.summaries_written_by"
FUNCTIONS = {
    f"{recency.RECENCY}_on_insert": recency.upsert_latest("new_rows"),
    f"{rx_year.YEAR}_on_insert": rx_year.insert_sums("new_rows"),
}
# The facts and their summaries: no database foreign key to the customer.
TABLES = (
    ("interaction", "interactions"),
    ("rxfact", "rx_facts"),
    ("interactionrecency", "interaction_recency"),
    ("rxyear", "rx_years"),
)


def _function(name: str, body: str, *, guarded: bool) -> str:
    guard = f"    IF current_setting('{SETTING}', true) = 'import' THEN RETURN NULL; END IF;\n"
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{guard if guarded else ''}    {body.strip().rstrip(';')};\n"
        "    RETURN NULL;\nEND;\n$$"
    )


def _foreign_key(schema_editor, table: str) -> str | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
            "AND confrelid = 'customers_customer'::regclass",
            [table],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _apply(schema_editor, *, forward: bool) -> None:
    """Forward: the guarded insert functions, no foreign keys. Backward: as before."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, body in FUNCTIONS.items():
        schema_editor.execute(_function(name, body, guarded=forward), None)
    for model, _ in TABLES:
        table = f"customers_{model}"
        name = _foreign_key(schema_editor, table)
        if forward and name:
            schema_editor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"', None)
        elif not forward and not name:
            schema_editor.execute(
                f'ALTER TABLE {table} ADD CONSTRAINT "{table}_customer_id_fk" FOREIGN KEY '
                "(customer_id) REFERENCES customers_customer (id) DEFERRABLE INITIALLY DEFERRED",
                None,
            )


def forward(apps, schema_editor):
    _apply(schema_editor, forward=True)


def backward(apps, schema_editor):
    _apply(schema_editor, forward=False)


def _no_constraint(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="customers.customer",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0012_coverage_referrals_influence"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name="customer", field=_no_constraint(rel))
                for model, rel in TABLES
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
        migrations.RemoveIndex(model_name="interaction", name="customers_i_custome_85ae88_idx"),
    ]
