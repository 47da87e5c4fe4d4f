"""On PostgreSQL, no role but the table's owner may change or empty the audit table.

Revokes from PUBLIC and from every other role holding it any privilege on
``governance_auditevent`` beyond SELECT and INSERT (UPDATE, DELETE, TRUNCATE,
REFERENCES, TRIGGER). The application connects as such a role
(docs/governance.md, "Operations"); migrations run as the owner, which the
append-only trigger still stops from UPDATE and DELETE.
"""

from django.db import migrations

TABLE = "governance_auditevent"


def revoke(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT grantee FROM information_schema.role_table_grants
            WHERE table_name = %s
              AND privilege_type NOT IN ('SELECT', 'INSERT')
              AND grantee <> (SELECT tableowner FROM pg_tables WHERE tablename = %s LIMIT 1)
            """,
            [TABLE, TABLE],
        )
        grantees = [row[0] for row in cursor.fetchall()]
        for grantee in ["PUBLIC", *grantees]:
            name = grantee if grantee == "PUBLIC" else connection.ops.quote_name(grantee)
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {TABLE} FROM {name}"
            )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_keyed_chain")]

    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
