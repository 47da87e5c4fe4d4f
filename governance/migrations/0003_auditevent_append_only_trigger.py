"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit events.

The ORM already refuses them (AuditEvent.save/delete and its queryset); the
trigger closes every other path (raw SQL, dbshell, another client). SQLite has
no equivalent we rely on, so the migration does nothing there. TRUNCATE is
deliberately not covered: test databases are flushed with it between
transactional tests.
"""

from django.db import migrations

CREATE = [
    """
CREATE OR REPLACE FUNCTION governance_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'governance_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent",
    """
CREATE TRIGGER governance_auditevent_append_only
    BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_auditevent_refuse_change()
""",
]

DROP = [
    "DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent",
    "DROP FUNCTION IF EXISTS governance_auditevent_refuse_change()",
]


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            # params=None: no placeholder parsing, so the '%' in RAISE survives.
            schema_editor.execute(statement, None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_signature")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
