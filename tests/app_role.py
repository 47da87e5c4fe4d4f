"""A connection as the application's restricted database role, for tests of its privileges."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection


@contextmanager
def app_role_cursor() -> Iterator[psycopg.Cursor]:
    """A cursor (autocommit) on the test database as ``APP_DATABASE_URL``'s role.

    Skips the test without PostgreSQL or that variable (scripts/services.sh
    prints it). Grants the role its privileges first (``grant_app_role``).
    """
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
