"""On PostgreSQL the application's role may only SELECT and INSERT audit events.

Connects as the restricted role (``APP_DATABASE_URL`` from scripts/services.sh)
to the test database after ``grant_app_role`` and shows that every way to
change, empty or unprotect the audit table is refused (docs/governance.md,
"Operations").
"""

from __future__ import annotations

import os

import dj_database_url
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from audit.services import record_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_cursor():
    if connection.vendor != "postgresql" or not os.environ.get("APP_DATABASE_URL"):
        pytest.skip("needs PostgreSQL and APP_DATABASE_URL (scripts/services.sh)")
    app = dj_database_url.parse(os.environ["APP_DATABASE_URL"])
    call_command("grant_app_role", role=app["USER"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=app["USER"],
        password=app["PASSWORD"],
        autocommit=True,
    ) as conn:
        with conn.cursor() as cursor:
            yield cursor


def test_app_role_reads_and_appends(app_cursor):
    record_event(actor=None, action="test.event", object_type="thing", object_id=1)
    app_cursor.execute("SELECT count(*) FROM governance_auditevent")
    assert app_cursor.fetchone()[0] == 1


@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE governance_auditevent",
        "TRUNCATE governance_auditevent CASCADE",
        "DELETE FROM governance_auditevent",
        "UPDATE governance_auditevent SET reason = 'x'",
        "ALTER TABLE governance_auditevent DISABLE TRIGGER governance_auditevent_append_only",
        "ALTER TABLE governance_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE governance_auditevent ADD COLUMN x int",
        "DROP TABLE governance_auditevent",
        "DROP TRIGGER governance_auditevent_append_only ON governance_auditevent",
    ],
)
def test_app_role_cannot_change_or_empty_the_audit_table(app_cursor, statement):
    record_event(actor=None, action="test.event", object_type="thing", object_id=1)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_cursor.execute(statement)
    app_cursor.execute("SELECT count(*) FROM governance_auditevent")
    assert app_cursor.fetchone()[0] == 1
