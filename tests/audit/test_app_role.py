"""On PostgreSQL the application's role may only SELECT and INSERT audit events.

Connects as the restricted role (``APP_DATABASE_URL`` from scripts/services.sh)
to the test database after ``grant_app_role`` and shows that every way to
change, empty or unprotect the audit table is refused (docs/governance.md,
"Operations").
"""

from __future__ import annotations

import psycopg
import pytest

from audit.services import record_event
from tests.app_role import app_role_cursor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_cursor():
    with app_role_cursor() as cursor:
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
