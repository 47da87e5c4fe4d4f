"""The hot standby of scripts/services.sh as a test fixture (docs/scaling.md)."""

from __future__ import annotations

import os
import time

import dj_database_url
import pytest
from django.db import connection, connections

from core import replica


@pytest.fixture
def standby(settings):
    """Point the ``replica`` alias at the hot standby's copy of the test database."""
    url = os.environ.get("DATABASE_REPLICA_URL")
    if connection.vendor != "postgresql" or not url or "replica" not in connections:
        pytest.skip("needs PostgreSQL and a hot standby (scripts/services.sh)")
    alias = connections["replica"]
    saved = dict(alias.settings_dict)
    target = dj_database_url.parse(url)
    alias.close()
    alias.settings_dict.update(
        HOST=target["HOST"],
        PORT=target["PORT"],
        NAME=connection.settings_dict["NAME"],
        USER=connection.settings_dict["USER"],
        PASSWORD=connection.settings_dict["PASSWORD"],
    )
    replica.forget_lag()
    settings.REPLICA_LAG_CHECK_SECONDS = 0
    yield alias
    alias.close()
    alias.settings_dict.clear()
    alias.settings_dict.update(saved)
    replica.forget_lag()


def wait_replayed(alias, npi: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with alias.cursor() as cursor:
            cursor.execute("SELECT 1 FROM customers_customer WHERE npi = %s", [npi])
            if cursor.fetchone():
                return
        time.sleep(0.1)
    raise AssertionError("the standby did not replay the primary's write in 30 s")
