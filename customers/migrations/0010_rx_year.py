"""RxYear: rx facts summed per customer, product and calendar year, one column per month.

Replaces RxMonthlyTotal (migration 0006): product "" holds every product's
sums, so one table answers every rx condition (docs/rules.md, "Rx by calendar
year"). Creates the table and the triggers on ``customers_rxfact`` that keep
it exact, backfills it from the facts already there, then drops the monthly
totals and their triggers. The triggers are created before the backfill in
the same transaction: CREATE TRIGGER locks out writers of the facts until the
commit, so no fact is counted twice or missed.

Every fact adds its metrics to two rows, (customer, its product, its year)
and (customer, "", its year), in the columns of its month. Facts may not
have the product "" (a check constraint), which would add to one row twice.

PostgreSQL: one statement-level AFTER trigger per event, reading the
statement's transition tables, so a bulk write costs one grouped upsert, not
one per row, as in 0006. INSERT adds the new rows' sums (upsert). UPDATE adds
the difference (new rows minus old rows) per key: upserted for keys some new
row has, only updated for keys only old rows had. DELETE only subtracts from
existing rows and never inserts: a customer's deletion removes the sums
before or after the facts (Django's cascade order), and a vanished row must
not come back negative. TRUNCATE of the facts empties the table. The
functions run with the caller's privileges; the application's role has DML
on every table (scripts/services.sh's default privileges).

SQLite: row-level AFTER triggers doing the same per row: the two rows are
created with zeros if missing (``WHERE NOT EXISTS``, not ``INSERT OR IGNORE``,
whose policy an outer ``INSERT OR REPLACE`` would override), then one UPDATE
adds the row's metrics to its month's columns of both.
"""

import importlib
from collections.abc import Callable

import django.db.models.deletion
from django.db import migrations, models

YEAR = "customers_rxyear"
FACT = "customers_rxfact"
METRICS = ("nrx", "trx", "new_patient_starts")
MONTHS = range(1, 13)
SUMS = [f"{m}_{i}" for m in METRICS for i in MONTHS]
KEY = "customer_id, product, year"
COLUMNS = f"{KEY}, {', '.join(SUMS)}"
ADD = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in SUMS)


def _facts(source: str, sign: str, is_new: str) -> str:
    """``source``'s facts as (key, month, signed metrics), once under their own
    product and once under "" (every product)."""
    metrics = ", ".join(f"{sign}{m} AS {m}" for m in METRICS)
    return " UNION ALL ".join(
        f"SELECT customer_id, {product} AS product, "
        f"CAST(EXTRACT(YEAR FROM month) AS integer) AS year, "
        f"CAST(EXTRACT(MONTH FROM month) AS integer) AS m, {metrics}, {is_new} AS is_new "
        f"FROM {source}"
        for product in ("product", "''")
    )


def _pivot(facts: str) -> str:
    """Per key, each month's summed metrics as columns, and whether a new row has the key."""
    sums = ", ".join(
        f"SUM(CASE WHEN m = {i} THEN {m} ELSE 0 END) AS {m}_{i}" for m in METRICS for i in MONTHS
    )
    return f"SELECT {KEY}, {sums}, bool_or(is_new) AS has_new FROM ({facts}) f GROUP BY {KEY}"


def _function(event: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {YEAR}_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n    RETURN NULL;\nEND;\n$$"
    )


def _upsert(pivot: str) -> str:
    return (
        f"    INSERT INTO {YEAR} AS t ({COLUMNS})\n"
        f"    SELECT {COLUMNS} FROM ({pivot}) d WHERE has_new ORDER BY product, year, customer_id\n"
        f"    ON CONFLICT (product, year, customer_id) DO UPDATE SET {ADD};"
    )


def _update(pivot: str, where: str) -> str:
    return (
        f"    UPDATE {YEAR} t SET {', '.join(f'{c} = t.{c} + d.{c}' for c in SUMS)}\n"
        f"    FROM ({pivot}) d WHERE {where} t.customer_id = d.customer_id "
        f"AND t.product = d.product AND t.year = d.year;"
    )


def insert_sums(source: str, pivot: Callable[[str], str] = _pivot) -> str:
    """The statement adding ``source``'s facts (rows just inserted) to the table: the
    insert trigger's, and the import's (customers/summaries.py). ``pivot``: how the
    month columns are summed (migration 0015 passes its own)."""
    return _upsert(pivot(_facts(source, "", "true")))


def bodies(pivot: Callable[[str], str] = _pivot) -> dict[str, str]:
    """The insert, update and delete functions' statements, the month columns summed
    by ``pivot`` (this migration's, or migration 0015's)."""
    changed = pivot(
        f"{_facts('new_rows', '', 'true')} UNION ALL {_facts('old_rows', '-', 'false')}"
    )
    return {
        "insert": insert_sums("new_rows", pivot),
        "update": _upsert(changed) + "\n" + _update(changed, "NOT d.has_new AND"),
        "delete": _update(pivot(_facts("old_rows", "-", "false")), ""),
    }


POSTGRES_CREATE = [
    *(_function(event, body) for event, body in bodies().items()),
    _function("truncate", f"    DELETE FROM {YEAR};"),
    f"CREATE TRIGGER {YEAR}_insert AFTER INSERT ON {FACT} REFERENCING NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {YEAR}_on_insert()",
    f"CREATE TRIGGER {YEAR}_update AFTER UPDATE ON {FACT} "
    f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {YEAR}_on_update()",
    f"CREATE TRIGGER {YEAR}_delete AFTER DELETE ON {FACT} REFERENCING OLD TABLE AS old_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {YEAR}_on_delete()",
    f"CREATE TRIGGER {YEAR}_truncate AFTER TRUNCATE ON {FACT} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {YEAR}_on_truncate()",
]

POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {YEAR}_{e} ON {FACT}" for e in ("insert", "update", "delete")),
    f"DROP TRIGGER IF EXISTS {YEAR}_truncate ON {FACT}",
    *(f"DROP FUNCTION IF EXISTS {YEAR}_on_{e}()" for e in ("insert", "update", "delete")),
    f"DROP FUNCTION IF EXISTS {YEAR}_on_truncate()",
]


def _sqlite_add(row: str, sign: str) -> str:
    """The statements adding (sign "+") or subtracting ("-") ``row``'s metrics."""
    year = f"CAST(strftime('%Y', {row}.month) AS INTEGER)"
    month = f"CAST(strftime('%m', {row}.month) AS INTEGER)"
    both = f"customer_id = {row}.customer_id AND year = {year} AND product IN ({row}.product, '')"
    update = (
        f"UPDATE {YEAR} SET "
        + ", ".join(
            f"{m}_{i} = {m}_{i} {sign} CASE WHEN {month} = {i} THEN {row}.{m} ELSE 0 END"
            for m in METRICS
            for i in MONTHS
        )
        + f" WHERE {both};"
    )
    if sign == "-":
        return update  # subtracting never inserts
    inserts = "\n    ".join(
        f"INSERT INTO {YEAR} ({KEY}) SELECT {row}.customer_id, {product}, {year} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {YEAR} WHERE customer_id = {row}.customer_id "
        f"AND product = {product} AND year = {year});"
        for product in (f"{row}.product", "''")
    )
    return f"{inserts}\n    {update}"


SQLITE_CREATE = [
    f"CREATE TRIGGER {YEAR}_insert AFTER INSERT ON {FACT} BEGIN\n"
    f"    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {YEAR}_update AFTER UPDATE ON {FACT} BEGIN\n"
    f"    {_sqlite_add('OLD', '-')}\n    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {YEAR}_delete AFTER DELETE ON {FACT} BEGIN\n"
    f"    {_sqlite_add('OLD', '-')}\nEND",
]

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {YEAR}_{e}" for e in ("insert", "update", "delete")]


def _backfill(vendor: str) -> str:
    facts = _facts(FACT, "", "true")
    if vendor == "sqlite":
        facts = facts.replace(
            "CAST(EXTRACT(YEAR FROM month) AS integer)", "CAST(strftime('%Y', month) AS INTEGER)"
        ).replace(
            "CAST(EXTRACT(MONTH FROM month) AS integer)", "CAST(strftime('%m', month) AS INTEGER)"
        )
        # SQLite has no bool_or; every backfilled key is new.
        pivot = _pivot(facts).replace("bool_or(is_new)", "MAX(is_new)")
    else:
        pivot = _pivot(facts)
    # In key order: a product's year is then stored together, and a scan of
    # it reads a third of the pages it would in hash order.
    return (
        f"INSERT INTO {YEAR} ({COLUMNS}) SELECT {COLUMNS} FROM ({pivot}) d "
        f"ORDER BY product, year, customer_id"
    )


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no rx year triggers for {vendor}")
    for statement in [*statements, _backfill(vendor)]:
        schema_editor.execute(statement, None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, None)


# The monthly totals this migration replaces: their triggers are dropped
# going forward and created (with their backfill) again going back.
_monthly = importlib.import_module("customers.migrations.0006_rx_monthly_total")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_interaction_recency"),
    ]

    operations = [
        migrations.CreateModel(
            name="RxYear",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("product", models.CharField(blank=True, max_length=64)),
                ("year", models.IntegerField()),
                *((c, models.BigIntegerField(db_default=0, default=0)) for c in SUMS),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rx_years",
                        to="customers.customer",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("product", "year", "customer"), name="unique_rx_year"
                    )
                ],
            },
        ),
        # The order matters on SQLite, where adding or removing a constraint
        # rebuilds the facts' table and loses its triggers: in both
        # directions the facts have no triggers when that happens.
        migrations.RunPython(_monthly.drop_triggers, _monthly.create_triggers),
        migrations.AddConstraint(
            model_name="rxfact",
            constraint=models.CheckConstraint(
                condition=models.Q(("product", ""), _negated=True), name="rx_fact_product_named"
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.DeleteModel(name="RxMonthlyTotal"),
    ]
