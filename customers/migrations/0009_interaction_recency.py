"""InteractionRecency: each customer's latest interaction times per facet, kept by triggers.

Creates the table, the triggers on ``customers_interaction`` that keep it
exact, and backfills it from the interactions already there (docs/rules.md,
"Latest interactions"). The triggers are created before the backfill in the
same transaction: CREATE TRIGGER locks out writers of interactions until the
commit, so nothing is missed or counted twice.

A facet is every interaction (""), one channel ("channel:<c>") or one topic
("topic:<t>", never the missing topic). Per (facet, customer) the table keeps
the KEPT latest ``occurred_at`` values, latest first, duplicates kept.

PostgreSQL: statement-level AFTER triggers over the transition tables, so a
bulk write costs one grouped statement. INSERT merges the new rows' latest
times into the stored ones (upsert; the KEPT latest of the union). UPDATE and
DELETE, rare (corrections, a customer's erasure), recompute the touched
customers from their interactions. TRUNCATE empties the table. The table is
stored with fillfactor 70 so the merges are HOT updates in place: a facet's
rows, written in facet order by the backfill, stay together for the scans
of previews.

SQLite: row-level AFTER triggers recompute the touched (customer, facet)
rows from the customer's interactions.
"""

import django.db.models.deletion
from django.db import migrations, models

RECENCY = "customers_interactionrecency"
INTERACTION = "customers_interaction"
KEPT = 5
LASTS = ", ".join(f"last_{k}" for k in range(1, KEPT + 1))
COLUMNS = f"customer_id, facet, {LASTS}"


def _facets(source: str, where: str = "TRUE") -> str:
    """(customer_id, facet, occurred_at) for every facet of ``source``'s rows."""
    return (
        f"SELECT customer_id, '' AS facet, occurred_at FROM {source} WHERE {where} "
        f"UNION ALL SELECT customer_id, 'channel:' || channel, occurred_at FROM {source} "
        f"WHERE {where} "
        f"UNION ALL SELECT customer_id, 'topic:' || topic, occurred_at FROM {source} "
        f"WHERE topic <> '' AND ({where})"
    )


def _latest(source: str, where: str = "TRUE") -> str:
    """The rows of the recency table for ``source``'s rows (both databases)."""
    pivot = ", ".join(
        f"MAX(CASE WHEN rn = {k} THEN occurred_at END) AS last_{k}" for k in range(1, KEPT + 1)
    )
    return (
        f"SELECT customer_id, facet, {pivot} FROM ("
        f"SELECT customer_id, facet, occurred_at, ROW_NUMBER() OVER ("
        f"PARTITION BY customer_id, facet ORDER BY occurred_at DESC) AS rn "
        f"FROM ({_facets(source, where)}) f) r WHERE rn <= {KEPT} GROUP BY customer_id, facet"
    )


def _recompute(touched: str) -> list[str]:
    """Statements recomputing the customers ``touched`` (a SELECT of customer ids)."""
    return [
        f"DELETE FROM {RECENCY} WHERE customer_id IN ({touched})",
        f"INSERT INTO {RECENCY} ({COLUMNS}) "
        f"{_latest(INTERACTION, f'customer_id IN ({touched})')} ORDER BY facet, customer_id",
    ]


def _function(event: str, body: str) -> str:
    """The trigger function ``<table>_on_<event>``: ``body``, then RETURN NULL (AFTER trigger)."""
    return (
        f"CREATE FUNCTION {RECENCY}_on_{event}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n    {body};\n    RETURN NULL;\nEND;\n$$"
    )


_STORED = ", ".join(f"t.last_{k}" for k in range(1, KEPT + 1))
_INCOMING = ", ".join(f"EXCLUDED.last_{k}" for k in range(1, KEPT + 1))
_PICK = ", ".join(f"m[{k}]" for k in range(1, KEPT + 1))


# A stored row (t) and an incoming one (EXCLUDED) merged: the KEPT latest of the ten.
_MERGED = f"""(
        SELECT {_PICK} FROM (
            SELECT (array_agg(v ORDER BY v DESC))[1:{KEPT}] AS m
            FROM unnest(ARRAY[{_STORED}, {_INCOMING}]) AS v WHERE v IS NOT NULL
        ) merged
    )"""


def upsert_latest(source: str, merged: str = _MERGED) -> str:
    """The statement merging ``source``'s rows (interactions just inserted) into the
    table: the insert trigger's, and the import's (customers/summaries.py).
    ``merged``: the new latest times of a key already stored (migration 0016 passes its
    own)."""
    return f"""INSERT INTO {RECENCY} AS t ({COLUMNS})
    SELECT customer_id, facet, {", ".join(f"l[{k}]" for k in range(1, KEPT + 1))} FROM (
        SELECT customer_id, facet,
               (array_agg(occurred_at ORDER BY occurred_at DESC))[1:{KEPT}] AS l
        FROM ({_facets(source)}) f GROUP BY customer_id, facet
    ) n
    ORDER BY facet, customer_id
    ON CONFLICT (facet, customer_id) DO UPDATE SET ({LASTS}) = {merged}"""


POSTGRES_CREATE = [
    f"ALTER TABLE {RECENCY} SET (fillfactor = 70)",
    _function("insert", upsert_latest("new_rows")),
    _function(
        "update",
        ";".join(
            _recompute("SELECT customer_id FROM old_rows UNION SELECT customer_id FROM new_rows")
        ),
    ),
    _function("delete", ";".join(_recompute("SELECT DISTINCT customer_id FROM old_rows"))),
    _function("truncate", f"DELETE FROM {RECENCY}"),
    # The fallback of a recency row with a time after the rule's as_of
    # (segmentation/rules/recency.py): the customer's interactions in the
    # facet, counted. Declared cheap so that the planner costs a recency scan
    # as the plain filter it nearly always is.
    f"""
CREATE FUNCTION customers_interactions_counted(
    for_customer bigint, for_facet text, after timestamptz, upto timestamptz
) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE COST 1 AS $$
    SELECT count(*) FROM {INTERACTION} i
    WHERE i.customer_id = for_customer AND i.occurred_at <= upto
      AND (after IS NULL OR i.occurred_at > after)
      AND (for_facet = '' OR for_facet = 'channel:' || i.channel
           OR for_facet = 'topic:' || i.topic)
$$
""",
    f"CREATE TRIGGER {RECENCY}_insert AFTER INSERT ON {INTERACTION} "
    f"REFERENCING NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {RECENCY}_on_insert()",
    f"CREATE TRIGGER {RECENCY}_update AFTER UPDATE ON {INTERACTION} "
    f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {RECENCY}_on_update()",
    f"CREATE TRIGGER {RECENCY}_delete AFTER DELETE ON {INTERACTION} "
    f"REFERENCING OLD TABLE AS old_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {RECENCY}_on_delete()",
    f"CREATE TRIGGER {RECENCY}_truncate AFTER TRUNCATE ON {INTERACTION} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {RECENCY}_on_truncate()",
]

POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS {RECENCY}_{e} ON {INTERACTION}"
        for e in ("insert", "update", "delete", "truncate")
    ),
    *(
        f"DROP FUNCTION IF EXISTS {RECENCY}_on_{e}()"
        for e in ("insert", "update", "delete", "truncate")
    ),
    "DROP FUNCTION IF EXISTS customers_interactions_counted(bigint, text, timestamptz, timestamptz)",
]


def _sqlite_refresh(row: str) -> str:
    """Statements recomputing ``row``'s (customer, facet) rows from its interactions."""
    statements = []
    for facet, match in (
        ("''", "TRUE"),
        (f"'channel:' || {row}.channel", f"channel = {row}.channel"),
        (f"'topic:' || {row}.topic", f"topic = {row}.topic"),
    ):
        mine = f"customer_id = {row}.customer_id AND {match}"
        lasts = ", ".join(
            f"(SELECT occurred_at FROM {INTERACTION} WHERE {mine} "
            f"ORDER BY occurred_at DESC LIMIT 1 OFFSET {k - 1})"
            for k in range(1, KEPT + 1)
        )
        guard = f" AND {row}.topic <> ''" if facet.startswith("'topic:") else ""
        statements += [
            f"DELETE FROM {RECENCY} WHERE customer_id = {row}.customer_id AND facet = {facet};",
            f"INSERT INTO {RECENCY} ({COLUMNS}) SELECT {row}.customer_id, {facet}, {lasts} "
            f"WHERE EXISTS (SELECT 1 FROM {INTERACTION} WHERE {mine}){guard};",
        ]
    return "\n    ".join(statements)


SQLITE_CREATE = [
    f"CREATE TRIGGER {RECENCY}_insert AFTER INSERT ON {INTERACTION} BEGIN\n"
    f"    {_sqlite_refresh('NEW')}\nEND",
    f"CREATE TRIGGER {RECENCY}_update AFTER UPDATE ON {INTERACTION} BEGIN\n"
    f"    {_sqlite_refresh('OLD')}\n    {_sqlite_refresh('NEW')}\nEND",
    f"CREATE TRIGGER {RECENCY}_delete AFTER DELETE ON {INTERACTION} BEGIN\n"
    f"    {_sqlite_refresh('OLD')}\nEND",
]

SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {RECENCY}_{e}" for e in ("insert", "update", "delete")]

BACKFILL = f"INSERT INTO {RECENCY} ({COLUMNS}) {_latest(INTERACTION)} ORDER BY facet, customer_id"


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no interaction recency triggers for {vendor}")
    for statement in [*statements, BACKFILL]:
        schema_editor.execute(statement, None)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_interaction_customer_time"),
    ]

    operations = [
        migrations.CreateModel(
            name="InteractionRecency",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("facet", models.CharField(max_length=48)),
                ("last_1", models.DateTimeField(null=True)),
                ("last_2", models.DateTimeField(null=True)),
                ("last_3", models.DateTimeField(null=True)),
                ("last_4", models.DateTimeField(null=True)),
                ("last_5", models.DateTimeField(null=True)),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="interaction_recency",
                        to="customers.customer",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("facet", "customer"), name="unique_interaction_recency"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
