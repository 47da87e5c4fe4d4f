"""The membership engine: M' computed in SQL and diffed against M (docs/rules.md).

With E the customers matching the entry rule, X those matching the exit rule,
M the members before the run and P the parent's current members:

* no exit rule:   M' = E            (intersected with P when there is a parent)
* with exit rule: M' = (M ∪ E) \\ X  (intersected with P when there is a parent)

The rule compiler's ``customer_filter`` gives a ``Q`` over Customer; M' and M
are written once into two temporary tables, and the differences M' \\ M and
M \\ M' become history rows (``INSERT ... SELECT``) and membership changes (one
``INSERT ... SELECT``, one ``DELETE``). No Python loop over customers.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from customers.models import Customer

from .. import selectors
from ..models import (
    Membership,
    MembershipChange,
    RecomputeRun,
    SegmentVersion,
)
from ..rules import customer_filter


def without_jit() -> None:
    """Turn PostgreSQL's JIT off for the rest of the current transaction.

    The rules' subqueries make the planner's cost estimates large, so JIT
    compilation kicks in and costs about half a second per statement, more
    than an incremental recompute or a preview spends executing.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def in_current_members_of(key: str, resolver, scope_sql: RawSQL | None = None) -> Q:
    version_id = resolver(key)
    if version_id is None:
        return Q(pk__in=[])
    members = Membership.objects.filter(version_id=version_id, customer_id=OuterRef("pk"))
    if scope_sql is not None:
        members = members.filter(customer_id__in=scope_sql)
    return Q(Exists(members))


def target_query(
    *, version: SegmentVersion, as_of: datetime, scope: list[int] | None, scope_sql: RawSQL | None
) -> QuerySet[Customer]:
    """M' as a Customer query (restricted to ``scope`` when given); reads M before any write.

    ``scope_sql`` selects the same ids from a temporary table. It is pushed
    into every per-customer subquery (event counts and rx sums through
    ``customer_filter``, current members, the parent's members) so that none
    of them reads rows of customers outside the scope; the outer query takes
    the literal ids, so the planner knows it starts from a few customers.
    """
    resolver = selectors.ReferenceResolver()
    condition = customer_filter(
        version.entry_rule, as_of=as_of, segment_version_id=resolver, customer_ids=scope_sql
    )
    if version.exit_rule is not None:
        current = Membership.objects.filter(version_id=version.pk, customer_id=OuterRef("pk"))
        if scope_sql is not None:
            current = current.filter(customer_id__in=scope_sql)
        not_exit = customer_filter(
            {"not": version.exit_rule},
            as_of=as_of,
            segment_version_id=resolver,
            customer_ids=scope_sql,
        )
        condition = (condition | Q(Exists(current))) & not_exit
    # order_by(): no ORDER BY (Customer's default npi ordering) inside INSERT ... SELECT.
    qs = Customer.objects.filter(condition).order_by()
    if version.parent_id is not None:
        qs = qs.filter(in_current_members_of(version.parent.key, resolver, scope_sql))
    if scope is not None:
        qs = qs.filter(pk__in=scope)
    return qs


TARGET_TABLE = "segmentation_recompute_target"
CURRENT_TABLE = "segmentation_recompute_current"
SCOPE_TABLE = "segmentation_recompute_scope"


def write_scope(scope: list[int]) -> RawSQL:
    """Write the scope's ids into a temporary table; return a subquery selecting them.

    Every place that needs the scope (the target query, each grouped
    subquery of the rule, the current members) reads this one table, so the
    statements carry no id parameters at all (SQLite's parameter limit) and
    PostgreSQL plans them from the table's statistics.
    """
    ops = connection.ops
    s = ops.quote_name(SCOPE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {s}")
        cursor.execute(f"CREATE TEMPORARY TABLE {s} (id bigint PRIMARY KEY)")
        for start in range(0, len(scope), 500):
            chunk = scope[start : start + 500]
            cursor.execute(f"INSERT INTO {s} (id) VALUES {', '.join(['(%s)'] * len(chunk))}", chunk)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {s}")
    return RawSQL(f"SELECT id FROM {s}", ())


def materialise(
    *, target: QuerySet[Customer], version: SegmentVersion, scope: RawSQL | None
) -> None:
    """Write M' and M (restricted to the scope) into per-connection temporary tables.

    Both sides of every difference are then small, freshly analysed tables, so
    the planner picks hash anti-joins even when the statistics of the large
    membership and history tables lag behind a bulk load.
    """
    sql, params = target.values(cid=F("pk")).query.sql_with_params()
    ops = connection.ops
    t, c = ops.quote_name(TARGET_TABLE), ops.quote_name(CURRENT_TABLE)
    membership = ops.quote_name(Membership._meta.db_table)
    in_scope = ""
    if scope is not None:
        in_scope = f" AND customer_id IN (SELECT id FROM {ops.quote_name(SCOPE_TABLE)})"
    with connection.cursor() as cursor:
        for table in (t, c):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (id bigint PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {t} (id) SELECT src.cid FROM ({sql}) src", params)
        cursor.execute(
            f"INSERT INTO {c} (id) SELECT customer_id FROM {membership} "
            f"WHERE version_id = %s{in_scope}",
            [version.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t}")  # temp tables are never auto-analysed
            cursor.execute(f"ANALYZE {c}")


def drop_temporaries() -> None:
    with connection.cursor() as cursor:
        for table in (TARGET_TABLE, CURRENT_TABLE, SCOPE_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")


def difference_queries() -> tuple[tuple[str, list], tuple[str, list]]:
    """SQL for M' \\ M (entered) and M \\ M' (exited), each selecting ``cid``."""
    t = connection.ops.quote_name(TARGET_TABLE)
    c = connection.ops.quote_name(CURRENT_TABLE)
    entered = (
        f"SELECT a.id AS cid FROM {t} a WHERE NOT EXISTS (SELECT 1 FROM {c} b WHERE b.id = a.id)",
        [],
    )
    exited = (
        f"SELECT a.id AS cid FROM {c} a WHERE NOT EXISTS (SELECT 1 FROM {t} b WHERE b.id = a.id)",
        [],
    )
    return entered, exited


def insert_changes(
    *,
    source: tuple[str, list],
    run: RecomputeRun,
    version: SegmentVersion,
    direction: str,
    as_of: datetime,
    recorded_at: datetime,
) -> int:
    """INSERT ... SELECT one history row per customer id the ``source`` SQL yields (as cid)."""
    sql, params = source
    table = MembershipChange._meta.db_table
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ops.quote_name(table)} "
            "(version_id, customer_id, direction, as_of, recorded_at, run_id) "
            f"SELECT %s, src.cid, %s, %s, %s, %s FROM ({sql}) src",
            [
                version.pk,
                direction,
                ops.adapt_datetimefield_value(as_of),
                ops.adapt_datetimefield_value(recorded_at),
                run.pk,
                *params,
            ],
        )
        return cursor.rowcount


def apply_changes(*, version: SegmentVersion, as_of: datetime) -> None:
    """Apply the differences to the membership table: one INSERT ... SELECT, one DELETE."""
    ops = connection.ops
    membership = ops.quote_name(Membership._meta.db_table)
    (entered_sql, _), (exited_sql, _) = difference_queries()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {membership} (version_id, customer_id, entered_at) "
            f"SELECT %s, src.cid, %s FROM ({entered_sql}) src",
            [version.pk, ops.adapt_datetimefield_value(as_of)],
        )
        cursor.execute(
            f"DELETE FROM {membership} WHERE version_id = %s AND customer_id IN "
            f"(SELECT src.cid FROM ({exited_sql}) src)",
            [version.pk],
        )
