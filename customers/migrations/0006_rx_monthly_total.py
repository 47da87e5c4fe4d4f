"""RxMonthlyTotal: every product's rx facts summed per customer and month, kept by triggers.

Creates the table, the triggers on ``customers_rxfact`` that keep it exact,
and backfills it from the facts already there (docs/rules.md, "Every product:
the monthly total"). The triggers are created before the backfill in the same
transaction: CREATE TRIGGER locks out writers of the facts until the commit,
so no fact is counted twice or missed.

PostgreSQL: one statement-level AFTER trigger per event, reading the
statement's transition tables, so a bulk write costs one grouped upsert, not
one per row. INSERT adds the new rows' sums (upsert). UPDATE adds the
difference (new rows minus old rows) per (customer, month): upserted for keys
some new row has, only updated for keys only old rows had. DELETE only
subtracts from existing rows and never inserts: a customer's deletion removes
the totals before or after the facts (Django's cascade order), and a
vanished total must not come back negative. TRUNCATE of the facts empties the
totals. The functions run with the caller's privileges (not SECURITY
DEFINER): the application's role has DML on every table (grant_app_role,
scripts/services.sh's default privileges), the totals included.

SQLite: row-level AFTER triggers doing the same per row. The zero row is
inserted with ``WHERE NOT EXISTS`` rather than ``INSERT OR IGNORE``, whose
policy an outer ``INSERT OR REPLACE`` would override.
"""

import django.db.models.deletion
from django.db import migrations, models

TOTAL = "customers_rxmonthlytotal"
FACT = "customers_rxfact"
METRICS = ("nrx", "trx", "new_patient_starts")


def _sums(prefix: str = "") -> str:
    return ", ".join(f"SUM({prefix}{m}) AS {m}" for m in METRICS)


ADD = ", ".join(f"{m} = t.{m} + EXCLUDED.{m}" for m in METRICS)
COLUMNS = f"customer_id, month, {', '.join(METRICS)}"
NONZERO = " OR ".join(f"SUM({m}) <> 0" for m in METRICS)

# The difference an UPDATE statement made, per (customer, month); has_new:
# some new row has the key (the only keys an UPDATE may insert).
DIFF = (
    f"SELECT customer_id, month, {_sums()}, bool_or(is_new) AS has_new FROM ("
    f"SELECT customer_id, month, {', '.join(METRICS)}, true AS is_new FROM new_rows "
    f"UNION ALL SELECT customer_id, month, {', '.join(f'-{m}' for m in METRICS)}, false "
    f"FROM old_rows) d GROUP BY customer_id, month HAVING {NONZERO}"
)

POSTGRES_CREATE = [
    f"""
CREATE FUNCTION {TOTAL}_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TOTAL} AS t ({COLUMNS})
    SELECT customer_id, month, {_sums()} FROM new_rows
    GROUP BY customer_id, month ORDER BY customer_id, month
    ON CONFLICT (customer_id, month) DO UPDATE SET {ADD};
    RETURN NULL;
END;
$$
""",
    f"""
CREATE FUNCTION {TOTAL}_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TOTAL} AS t ({COLUMNS})
    SELECT {COLUMNS} FROM ({DIFF}) d WHERE has_new ORDER BY customer_id, month
    ON CONFLICT (customer_id, month) DO UPDATE SET {ADD};
    UPDATE {TOTAL} t SET {", ".join(f"{m} = t.{m} + d.{m}" for m in METRICS)}
    FROM ({DIFF}) d
    WHERE NOT d.has_new AND t.customer_id = d.customer_id AND t.month = d.month;
    RETURN NULL;
END;
$$
""",
    f"""
CREATE FUNCTION {TOTAL}_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {TOTAL} t SET {", ".join(f"{m} = t.{m} - d.{m}" for m in METRICS)}
    FROM (SELECT customer_id, month, {_sums()} FROM old_rows GROUP BY customer_id, month) d
    WHERE t.customer_id = d.customer_id AND t.month = d.month;
    RETURN NULL;
END;
$$
""",
    f"""
CREATE FUNCTION {TOTAL}_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TOTAL};
    RETURN NULL;
END;
$$
""",
    f"CREATE TRIGGER {TOTAL}_insert AFTER INSERT ON {FACT} REFERENCING NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TOTAL}_on_insert()",
    f"CREATE TRIGGER {TOTAL}_update AFTER UPDATE ON {FACT} "
    f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TOTAL}_on_update()",
    f"CREATE TRIGGER {TOTAL}_delete AFTER DELETE ON {FACT} REFERENCING OLD TABLE AS old_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TOTAL}_on_delete()",
    f"CREATE TRIGGER {TOTAL}_truncate AFTER TRUNCATE ON {FACT} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {TOTAL}_on_truncate()",
]

POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {TOTAL}_{e} ON {FACT}" for e in ("insert", "update", "delete")),
    f"DROP TRIGGER IF EXISTS {TOTAL}_truncate ON {FACT}",
    *(f"DROP FUNCTION IF EXISTS {TOTAL}_on_{e}()" for e in ("insert", "update", "delete")),
    f"DROP FUNCTION IF EXISTS {TOTAL}_on_truncate()",
]


def _sqlite_add(row: str, sign: str) -> str:
    """The statements adding (sign "+") or subtracting ("-") ``row``'s metrics at its key."""
    key = f"customer_id = {row}.customer_id AND month = {row}.month"
    update = (
        f"UPDATE {TOTAL} SET {', '.join(f'{m} = {m} {sign} {row}.{m}' for m in METRICS)} "
        f"WHERE {key};"
    )
    if sign == "-":
        return update  # subtracting never inserts
    insert = (
        f"INSERT INTO {TOTAL} ({COLUMNS}) SELECT {row}.customer_id, {row}.month, 0, 0, 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TOTAL} WHERE {key});"
    )
    return f"{insert}\n    {update}"


SQLITE_CREATE = [
    f"CREATE TRIGGER {TOTAL}_insert AFTER INSERT ON {FACT} BEGIN\n"
    f"    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {TOTAL}_update AFTER UPDATE ON {FACT} BEGIN\n"
    f"    {_sqlite_add('OLD', '-')}\n    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {TOTAL}_delete AFTER DELETE ON {FACT} BEGIN\n"
    f"    {_sqlite_add('OLD', '-')}\nEND",
]

SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {TOTAL}_{e}" for e in ("insert", "update", "delete")
]

BACKFILL = (
    f"INSERT INTO {TOTAL} ({COLUMNS}) "
    f"SELECT customer_id, month, {_sums()} FROM {FACT} GROUP BY customer_id, month"
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no rx total triggers for {vendor}")
    for statement in [*statements, BACKFILL]:
        schema_editor.execute(statement, None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_interaction_time_covering"),
    ]

    operations = [
        migrations.CreateModel(
            name="RxMonthlyTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                ("nrx", models.BigIntegerField()),
                ("trx", models.BigIntegerField()),
                ("new_patient_starts", models.BigIntegerField()),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rx_monthly_totals",
                        to="customers.customer",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["month"],
                        include=("customer", "nrx", "trx", "new_patient_starts"),
                        name="rx_total_month_covering",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("customer", "month"), name="unique_rx_monthly_total"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
