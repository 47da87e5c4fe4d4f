"""Helpers for audit tests: change the table behind the application's back."""

from __future__ import annotations

from django.db import connection

TRIGGER = "governance_auditevent_append_only"


def tamper(sql: str, params: list) -> None:
    """Change the audit table behind the application's back, as a DB superuser could.

    On PostgreSQL the append-only trigger is disabled for the statement (after
    flushing deferred FK checks, which ALTER TABLE refuses to run past).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE governance_auditevent DISABLE TRIGGER {TRIGGER}")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE governance_auditevent ENABLE TRIGGER {TRIGGER}")
