"""Membership and history become one table of spells (docs/architecture.md).

Each history entry is paired with the exit that follows it (per version and
customer, in recorded order) into one spell; current members are the spells
left open. ``segmentation_membership`` and ``segmentation_membershipchange``
then become read-only views of the spells, so every reader keeps its query.
Rows that do not pair (an exit without an entry, an entry neither exited nor
current, a member without an entry) keep what readers saw through spells
whose missing side has no run, which the history view leaves out.
"""

import django.db.models.deletion
from django.db import migrations, models

SPELL = "segmentation_membershipspell"
MEMBER = "segmentation_membership"
HISTORY = "segmentation_membershipchange"

# Portable SQL (PostgreSQL and SQLite >= 3.25: window functions).
PAIRED = f"""
SELECT h.*,
  LEAD(direction) OVER w AS next_direction, LEAD(as_of) OVER w AS next_as_of,
  LEAD(recorded_at) OVER w AS next_recorded_at, LEAD(run_id) OVER w AS next_run_id,
  LAG(direction) OVER w AS prev_direction,
  EXISTS (SELECT 1 FROM {MEMBER} m
          WHERE m.version_id = h.version_id AND m.customer_id = h.customer_id) AS member
FROM {HISTORY} h
WINDOW w AS (PARTITION BY version_id, customer_id ORDER BY recorded_at, id)
"""

COLUMNS = (
    "version_id, customer_id, entered_as_of, entered_recorded_at, entered_run_id, "
    "exited_as_of, exited_recorded_at, exited_run_id"
)

TO_SPELLS = [
    # Every entry, closed by the row after it; the last one stays open if it is a member.
    f"""INSERT INTO {SPELL} ({COLUMNS})
    SELECT version_id, customer_id, as_of, recorded_at, run_id,
      CASE WHEN next_direction IS NOT NULL THEN next_as_of WHEN member THEN NULL ELSE as_of END,
      CASE WHEN next_direction IS NOT NULL THEN next_recorded_at
           WHEN member THEN NULL ELSE recorded_at END,
      CASE WHEN next_direction = 'exit' THEN next_run_id END
    FROM ({PAIRED}) p WHERE direction = 'entry' ORDER BY p.recorded_at, p.id""",
    # An exit that follows no entry.
    f"""INSERT INTO {SPELL} ({COLUMNS})
    SELECT version_id, customer_id, as_of, recorded_at, NULL, as_of, recorded_at, run_id
    FROM ({PAIRED}) p
    WHERE direction = 'exit' AND (prev_direction IS NULL OR prev_direction = 'exit')
    ORDER BY p.recorded_at, p.id""",
    # A member without an open spell (no entry in the history).
    f"""INSERT INTO {SPELL} ({COLUMNS})
    SELECT version_id, customer_id, entered_at, entered_at, NULL, NULL, NULL, NULL
    FROM {MEMBER} m WHERE NOT EXISTS (
      SELECT 1 FROM {SPELL} s WHERE s.version_id = m.version_id
      AND s.customer_id = m.customer_id AND s.exited_as_of IS NULL)
    ORDER BY version_id, customer_id""",
]

FROM_SPELLS = [
    f"""INSERT INTO {MEMBER} (version_id, customer_id, entered_at)
    SELECT version_id, customer_id, entered_as_of FROM {SPELL}
    WHERE exited_as_of IS NULL ORDER BY version_id, customer_id""",
    f"""INSERT INTO {HISTORY} (version_id, customer_id, direction, as_of, recorded_at, run_id)
    SELECT version_id, customer_id, direction, as_of, recorded_at, run_id FROM (
      SELECT version_id, customer_id, 'entry' AS direction, entered_as_of AS as_of,
        entered_recorded_at AS recorded_at, entered_run_id AS run_id, 2 * id AS n
      FROM {SPELL} WHERE entered_run_id IS NOT NULL
      UNION ALL
      SELECT version_id, customer_id, 'exit', exited_as_of, exited_recorded_at,
        exited_run_id, 2 * id + 1 FROM {SPELL} WHERE exited_run_id IS NOT NULL) c
    ORDER BY c.recorded_at, c.n""",
]

VIEWS = [
    f"""CREATE VIEW {MEMBER} AS
    SELECT id, version_id, customer_id, entered_as_of AS entered_at
    FROM {SPELL} WHERE exited_as_of IS NULL""",
    f"""CREATE VIEW {HISTORY} AS
    SELECT 2 * id AS id, version_id, customer_id, 'entry' AS direction,
      entered_as_of AS as_of, entered_recorded_at AS recorded_at, entered_run_id AS run_id
    FROM {SPELL} WHERE entered_run_id IS NOT NULL
    UNION ALL
    SELECT 2 * id + 1, version_id, customer_id, 'exit', exited_as_of, exited_recorded_at,
      exited_run_id
    FROM {SPELL} WHERE exited_run_id IS NOT NULL""",
]


def _analyse(apps, schema_editor):
    """Give the planner the spells' statistics before the first recompute reads them."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ANALYZE {SPELL}")


def _execute(statements):
    def run(apps, schema_editor):
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_merge_indexes_and_import_state"),
        ("segmentation", "0004_merge_provenance"),
    ]

    operations = [
        migrations.CreateModel(
            name="MembershipSpell",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("entered_as_of", models.DateTimeField()),
                ("entered_recorded_at", models.DateTimeField()),
                ("exited_as_of", models.DateTimeField(null=True)),
                ("exited_recorded_at", models.DateTimeField(null=True)),
                ("customer", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="membership_spells", to="customers.customer")),
                ("entered_run", models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="segmentation.recomputerun")),
                ("exited_run", models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="segmentation.recomputerun")),
                ("version", models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="spells", to="segmentation.segmentversion")),
            ],
            options={
                "indexes": [models.Index(fields=["version", "entered_as_of"], name="segmentatio_version_f82fec_idx")],
                "constraints": [models.UniqueConstraint(condition=models.Q(("exited_as_of__isnull", True)), fields=("version", "customer"), name="one_open_spell")],
            },
        ),
        migrations.RunPython(_execute(TO_SPELLS), _execute(FROM_SPELLS)),
        migrations.SeparateDatabaseAndState(
            # Dropping the tables; backwards, Django recreates them as they were.
            database_operations=[
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="MembershipChange"),
            ],
            state_operations=[
                migrations.AlterModelOptions(name="membership", options={"managed": False}),
                migrations.AlterModelOptions(
                    name="membershipchange",
                    options={"managed": False, "ordering": ["recorded_at", "id"]},
                ),
            ],
        ),
        migrations.RunSQL(VIEWS, [f"DROP VIEW {HISTORY}", f"DROP VIEW {MEMBER}"]),
        migrations.RunPython(_analyse, migrations.RunPython.noop),
    ]
