"""Moving the test database between migrations, for the tests of data migrations."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str | None]]):
    """Migrate to ``targets`` ((app, migration) pairs); return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets).apps


def migrate_to_latest():
    """Migrate every app forward to its latest migration; return the apps."""
    return migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
