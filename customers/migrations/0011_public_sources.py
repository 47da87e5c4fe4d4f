"""Public US data sources (docs/sources.md): NPPES, NUCC taxonomy, Part D, alignment.

Customers and accounts get ``active``/``deactivated_on`` (NPPES deactivations)
and customers their primary ``taxonomy_code``; ``TaxonomyCode`` holds the
imported code set and its specialty; ``ZipAlignment`` the territory alignment;
``RxAnnualFact`` yearly rx facts (Part D). Import runs keep skipped rows and
their reasons, and options such as Part D's data year.

Triggers on ``customers_rxannualfact`` add every yearly fact's metrics to the
``{metric}_year`` columns of its RxYear rows (its product's and "", every
product's), as migration 0010's triggers do for monthly facts: a suppressed
(NULL) metric adds nothing. PostgreSQL: statement-level triggers over the
transition tables (insert: one grouped upsert; update: subtract the old rows,
then upsert the new; delete: subtract; truncate: zero the yearly columns).
SQLite: row-level triggers doing the same per row.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

YEAR = "customers_rxyear"
FACT = "customers_rxannualfact"
METRICS = ("nrx", "trx", "new_patient_starts")
SUMS = [f"{m}_year" for m in METRICS]
KEY = "customer_id, product, year"


def _grouped(source: str, sign: str) -> str:
    """``source``'s facts summed per RxYear key: under their product and under ""."""
    metrics = ", ".join(f"{sign}COALESCE({m}, 0) AS {m}" for m in METRICS)
    rows = " UNION ALL ".join(
        f"SELECT customer_id, {product} AS product, year, {metrics} FROM {source}"
        for product in ("product", "''")
    )
    sums = ", ".join(f"SUM({m}) AS {m}_year" for m in METRICS)
    return f"SELECT {KEY}, {sums} FROM ({rows}) f GROUP BY {KEY}"


def _upsert(source: str) -> str:
    cols = f"{KEY}, {', '.join(SUMS)}"
    add = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in SUMS)
    return (
        f"    INSERT INTO {YEAR} AS t ({cols}) SELECT {cols} FROM ({_grouped(source, '')}) d\n"
        f"    ORDER BY product, year, customer_id\n"
        f"    ON CONFLICT (product, year, customer_id) DO UPDATE SET {add};"
    )


def _subtract(source: str) -> str:
    sets = ", ".join(f"{c} = t.{c} + d.{c}" for c in SUMS)
    return (
        f"    UPDATE {YEAR} t SET {sets} FROM ({_grouped(source, '-')}) d\n"
        f"    WHERE t.customer_id = d.customer_id AND t.product = d.product AND t.year = d.year;"
    )


def _function(event: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {FACT}_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\n    RETURN NULL;\nEND;\n$$"
    )


def _trigger(event: str, referencing: str) -> str:
    return (
        f"CREATE TRIGGER {FACT}_{event} AFTER {event.upper()} ON {FACT} {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FACT}_on_{event}()"
    )


POSTGRES_CREATE = [
    _function("insert", _upsert("new_rows")),
    _function("update", _subtract("old_rows") + "\n" + _upsert("new_rows")),
    _function("delete", _subtract("old_rows")),
    _function("truncate", f"    UPDATE {YEAR} SET {', '.join(f'{c} = 0' for c in SUMS)};"),
    _trigger("insert", "REFERENCING NEW TABLE AS new_rows"),
    _trigger("update", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    _trigger("delete", "REFERENCING OLD TABLE AS old_rows"),
    _trigger("truncate", ""),
]

POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {FACT}_{e} ON {FACT}" for e in ("insert", "update", "delete")),
    f"DROP TRIGGER IF EXISTS {FACT}_truncate ON {FACT}",
    *(
        f"DROP FUNCTION IF EXISTS {FACT}_on_{e}()"
        for e in ("insert", "update", "delete", "truncate")
    ),
]


def _sqlite_add(row: str, sign: str) -> str:
    both = f"customer_id = {row}.customer_id AND year = {row}.year AND product IN ({row}.product, '')"
    update = (
        f"UPDATE {YEAR} SET "
        + ", ".join(f"{m}_year = {m}_year {sign} COALESCE({row}.{m}, 0)" for m in METRICS)
        + f" WHERE {both};"
    )
    if sign == "-":
        return update
    inserts = "\n    ".join(
        f"INSERT INTO {YEAR} ({KEY}) SELECT {row}.customer_id, {product}, {row}.year "
        f"WHERE NOT EXISTS (SELECT 1 FROM {YEAR} WHERE customer_id = {row}.customer_id "
        f"AND product = {product} AND year = {row}.year);"
        for product in (f"{row}.product", "''")
    )
    return f"{inserts}\n    {update}"


SQLITE_CREATE = [
    f"CREATE TRIGGER {FACT}_insert AFTER INSERT ON {FACT} BEGIN\n    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {FACT}_update AFTER UPDATE ON {FACT} BEGIN\n"
    f"    {_sqlite_add('OLD', '-')}\n    {_sqlite_add('NEW', '+')}\nEND",
    f"CREATE TRIGGER {FACT}_delete AFTER DELETE ON {FACT} BEGIN\n    {_sqlite_add('OLD', '-')}\nEND",
]

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {FACT}_{e}" for e in ("insert", "update", "delete")]


_monthly = importlib.import_module("customers.migrations.0010_rx_year")


def _sqlite_monthly_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _monthly.SQLITE_DROP:
            schema_editor.execute(statement, None)


def _sqlite_monthly_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _monthly.SQLITE_CREATE:
            schema_editor.execute(statement, None)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no rx annual triggers for {vendor}")
    for statement in statements:
        schema_editor.execute(statement, None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, None)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_manager'),
        ('customers', '0010_rx_year'),
    ]

    operations = [
        migrations.CreateModel(
            name='TaxonomyCode',
            fields=[
                ('code', models.CharField(max_length=10, primary_key=True, serialize=False)),
                ('grouping', models.CharField(blank=True, max_length=200)),
                ('classification', models.CharField(blank=True, max_length=200)),
                ('specialization', models.CharField(blank=True, max_length=200)),
                ('display_name', models.CharField(blank=True, max_length=300)),
                ('specialty', models.CharField(choices=[('cardiology', 'Cardiology'), ('oncology', 'Oncology'), ('hematology', 'Hematology'), ('endocrinology', 'Endocrinology'), ('neurology', 'Neurology'), ('rheumatology', 'Rheumatology'), ('nephrology', 'Nephrology'), ('pulmonology', 'Pulmonology'), ('gastroenterology', 'Gastroenterology'), ('dermatology', 'Dermatology'), ('psychiatry', 'Psychiatry'), ('infectious_disease', 'Infectious Disease'), ('internal_medicine', 'Internal Medicine'), ('family_medicine', 'Family Medicine'), ('pediatrics', 'Pediatrics'), ('obstetrics_gynecology', 'Obstetrics Gynecology'), ('pharmacy', 'Pharmacy'), ('nurse_practitioner', 'Nurse Practitioner'), ('other', 'Other')], max_length=32)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['code'],
            },
        ),
        migrations.AddField(
            model_name='account',
            name='active',
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AddField(
            model_name='account',
            name='deactivated_on',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='active',
            field=models.BooleanField(db_default=True, default=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='deactivated_on',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='customer',
            name='taxonomy_code',
            field=models.CharField(blank=True, db_default='', max_length=10),
        ),
        migrations.AddField(
            model_name='importrun',
            name='options',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='importrun',
            name='report',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='importrun',
            name='skipped',
            field=models.PositiveIntegerField(default=0),
        ),
        # SQLite rebuilds customers_rxyear to add columns, which the monthly
        # facts' triggers (0010) name: they are dropped meanwhile (no backfill
        # when they come back: the facts and the sums are unchanged).
        migrations.RunPython(_sqlite_monthly_off, _sqlite_monthly_on),
        migrations.AddField(
            model_name='rxyear',
            name='new_patient_starts_year',
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='rxyear',
            name='nrx_year',
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='rxyear',
            name='trx_year',
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(_sqlite_monthly_on, _sqlite_monthly_off),
        migrations.CreateModel(
            name='ZipAlignment',
            fields=[
                ('zip', models.CharField(max_length=5, primary_key=True, serialize=False)),
                ('territory', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='zips', to='accounts.territory')),
            ],
            options={
                'ordering': ['zip'],
            },
        ),
        migrations.CreateModel(
            name='RxAnnualFact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.IntegerField()),
                ('product', models.CharField(max_length=64)),
                ('nrx', models.PositiveIntegerField(blank=True, null=True)),
                ('trx', models.PositiveIntegerField(blank=True, null=True)),
                ('new_patient_starts', models.PositiveIntegerField(blank=True, null=True)),
                ('source', models.CharField(blank=True, max_length=16)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rx_annual_facts', to='customers.customer')),
            ],
            options={
                'indexes': [models.Index(fields=['product', 'year'], name='rxannual_product_year')],
                'constraints': [models.UniqueConstraint(fields=('customer', 'year', 'product'), name='unique_rx_annual_fact'), models.CheckConstraint(condition=models.Q(('product', ''), _negated=True), name='rx_annual_fact_product_named')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
