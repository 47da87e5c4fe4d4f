"""``python manage.py grant_app_role --role app``: the application's PostgreSQL privileges.

Run as the owner after ``migrate`` (docker-compose's migrate service does,
docs/governance.md "Operations"). Grants the role what the application needs on
every table and sequence of the schema, then takes back everything but SELECT
and INSERT on the audit table: the application can append events and read
them, never update, delete, truncate or alter them (it owns nothing).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.models import AuditEvent


class Command(BaseCommand):
    help = "Grant the application's database role DML on all tables, SELECT+INSERT on audit."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the role the application logs in as")
        parser.add_argument("--schema", default="public")

    def handle(self, *args, role: str, schema: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role is for PostgreSQL only")
        q = connection.ops.quote_name
        audit = q(AuditEvent._meta.db_table)
        statements = [
            f"GRANT CONNECT ON DATABASE {q(connection.settings_dict['NAME'])} TO {q(role)}",
            f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(role)}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q(schema)} "
            f"TO {q(role)}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(role)}",
            f"REVOKE ALL ON {audit} FROM {q(role)}",
            f"GRANT SELECT, INSERT ON {audit} TO {q(role)}",
        ]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"role {role}: DML on {schema}, SELECT and INSERT only on {audit}")
