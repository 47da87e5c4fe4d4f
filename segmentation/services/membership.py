"""The membership engine: M' computed in SQL and diffed against M (docs/rules.md).

With E the customers matching the entry rule, X those matching the exit rule,
M the members before the run and P the parent's current members:

* no exit rule:   M' = E            (intersected with P when there is a parent)
* with exit rule: M' = (M ∪ E) \\ X  (intersected with P when there is a parent)

The rule compiler's ``customer_filter`` gives a ``Q`` over Customer.

* A full run evaluates M' once, in one statement that full-joins it with M
  and keeps only the differences (M' \\ M as entries, M \\ M' as exits) in a
  temporary table: with unchanged data that table is empty and nothing else
  is written. The differences then become spells: one ``INSERT ... SELECT``
  opens a spell per entry, one ``UPDATE`` closes the open spell of each exit
  (one row per member holds both membership and history, docs/architecture.md).
  No Python loop over customers.
* A scoped (incremental) run reads M' and M for at most a few thousand
  customers into Python sets and writes the differences in bulk: no temporary
  table, no ANALYZE per segment (bench/README.md, "Incremental").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from customers.models import Customer

from .. import selectors
from ..models import (
    Direction,
    Membership,
    RecomputeRun,
    SegmentVersion,
    Unit,
)
from ..rules import account_filter, customer_filter, entry_rules_out_exit, on_own_columns
from ..rules.shared import SharedAggregates
from ..units import ACCOUNT, CUSTOMER, UnitSpec, unit_of


def without_jit(using: str = "default") -> None:
    """Turn PostgreSQL's JIT off for the rest of the current transaction.

    The rules' subqueries make the planner's cost estimates large, so JIT
    compilation kicks in and costs about half a second per statement (up to
    two seconds on a loaded machine), more than an incremental recompute or
    a preview spends executing. A full recompute is faster without it too:
    20 segments with unchanged data at 200k customers took 14.2-14.6 s
    without JIT against 17.8 s with it (bench/README.md).
    """
    if connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def in_current_members_of(key: str, resolver, scope_sql: RawSQL | None = None) -> Q:
    version_id = resolver(key)
    if version_id is None:
        return Q(pk__in=[])
    members = Membership.objects.filter(version_id=version_id, customer_id=OuterRef("pk"))
    if scope_sql is not None:
        members = members.filter(customer_id__in=scope_sql)
    return Q(Exists(members))


def current_members_of(key: str, resolver) -> QuerySet | None:
    """The ids of ``key``'s current members, as a subquery; None when it has no active version.

    Passed as ``customer_filter``'s ``within`` when nobody outside them can
    match (a parent's members): the rule's event counts and rx sums then read
    only their rows (bench/README.md, "Previews").
    """
    version_id = resolver(key)
    if version_id is None:
        return None
    return Membership.objects.filter(version_id=version_id).values("customer_id")


def target_query(
    *,
    version: SegmentVersion,
    as_of: datetime,
    scope: list[int] | None,
    scope_sql: RawSQL | None,
    shared: SharedAggregates | None = None,
    has_members: bool = True,
) -> QuerySet[Customer]:
    """M' as a Customer query (restricted to ``scope`` when given); reads M before any write.

    ``has_members`` False says M is empty (a first recompute): M' is then
    E \\ X without the "or a current member" the exit rule otherwise needs,
    so the entry's conditions stay joins the planner can drive from (a
    lapsing rule's first run at 1M: 0.34 s instead of 5 s), and without X at
    all when the entry rules it out (``entry_rules_out_exit``), as a preview
    drops it (``rules.without_decided_negations``).

    ``scope_sql`` selects the same ids from a temporary table. It is pushed
    into every per-customer subquery (event counts and rx sums through
    ``customer_filter``, current members, the parent's members) so that none
    of them reads rows of customers outside the scope; the outer query takes
    the literal ids, so the planner knows it starts from a few customers.

    ``shared``: the run's shared event and rx totals (full runs, ``recompute.py``).

    An account segment's M' is an Account query (``account_target_query``).
    """
    if version.segment.unit == Unit.ACCOUNT:
        return account_target_query(version=version, as_of=as_of, has_members=has_members)
    resolver = selectors.ReferenceResolver()
    # A full run of a child segment reads only its parent's members' rows; a
    # scoped run is narrowed by its scope already.
    within = None
    if version.parent_id is not None and scope_sql is None:
        within = current_members_of(version.parent.key, resolver)
    condition = customer_filter(
        version.entry_rule,
        as_of=as_of,
        segment_version_id=resolver,
        customer_ids=scope_sql,
        within=within,
        shared=shared,
    )
    exit_rule = version.exit_rule
    if not has_members and entry_rules_out_exit(version.entry_rule, exit_rule):
        # M' = E \ X is E when the two never meet: nobody admitted is tested against
        # the exit (a lapsing rule's first run at 1M: each of 191,000 entrants'
        # latest times read again, 0.5 s of 1.9 s; bench/README.md).
        exit_rule = None
    if exit_rule is not None:
        not_exit = customer_filter(
            {"not": exit_rule},
            as_of=as_of,
            segment_version_id=resolver,
            customer_ids=scope_sql,
            within=within,
            shared=shared,
        )
        # M's ids (lazy: read only where a branch below reads them).
        member_ids = (
            Membership.objects.filter(version_id=version.pk).order_by().values("customer_id")
        )
        if has_members and scope_sql is None and on_own_columns(version.entry_rule):
            # E tests only the customer's own columns: one pass over the customers
            # with M as one hashed set is cheaper than probing each of E's and M's
            # ids (a decile rule's unchanged run at 1M: 1.4 s to 0.57 s).
            condition |= Q(pk__in=member_ids)
        elif has_members and scope_sql is None:
            # E or M as one IN over their union: a semi-join the planner can
            # drive from either part, where an OR of the two is a filter
            # evaluated per customer (unchanged data at 1M: a lapsing rule
            # 1.2 s instead of 5 s, docs/rules.md's example 2.5 s instead of 9).
            entry = Customer.objects.filter(condition).order_by().values("pk")
            condition = Q(pk__in=entry.union(member_ids, all=True))
        elif has_members:
            # A scoped run: a few customers, each tested once.
            current = Membership.objects.filter(
                version_id=version.pk, customer_id=OuterRef("pk"), customer_id__in=scope_sql
            )
            condition |= Q(Exists(current))
        if not_exit is not None:
            condition &= not_exit
    # order_by(): no ORDER BY (Customer's default npi ordering) inside INSERT ... SELECT.
    # Inactive customers (a deactivated NPI) are never members: they cannot
    # enter, and a member who becomes inactive leaves at this recompute, exit
    # rule or not (docs/rules.md, "Inactive customers"). This is the one place
    # M' is formed, so every recompute, full or scoped, obeys it (previews too).
    # Written as "not among the inactive" (a partial index holds the few inactive
    # ids: customers migration 0014; ``_not_inactive``), not as the customer's own
    # column: the candidates then need no visit to the customers' rows, only to
    # their primary key (a lapsing rule's unchanged run at 1M: 1.4 s of its 3.4 s
    # went to fetching 276,000 rows to read "active", bench/README.md).
    qs = Customer.objects.filter(condition, _not_inactive()).order_by()
    if version.parent_id is not None:
        qs = qs.filter(in_current_members_of(version.parent.key, resolver, scope_sql))
    if scope is not None:
        qs = qs.filter(pk__in=scope)
    return qs


def ruled_out_exit_split(
    *, version: SegmentVersion, as_of: datetime, shared: SharedAggregates | None = None
) -> tuple[QuerySet[Customer], Callable[[RawSQL], QuerySet]] | None:
    """For a full run of a version with members whose entry rules out its exit: (T, leaving).

    With I the inactive customers, M' = ((E ∪ (M \\ X)) \\ I) ∩ P. When E and X never
    meet (``entry_rules_out_exit``: "3 interactions in 30 days" and "none in 90"),

    * M' \\ M = T \\ M, with T = (E \\ I) ∩ P;
    * M \\ M' = M ∩ (X ∪ I ∪ ¬P), and every such member lies outside T.

    So T is compared with M as ``differences_sql`` compares M' (entries are T \\ M
    as they stand), and only the members outside T are tested against the exit,
    by ``leaving(scope)``: the ids, among ``scope``, of customers in X ∪ I ∪ ¬P.
    With unchanged data no member is outside T, so the exit is never evaluated:
    the unchanged run costs about what selecting E costs (a lapsing rule at 1M
    customers, bench/README.md "Unchanged data"). None when the split does not
    apply (no members yet, an account segment, or an entry that can meet the exit).
    """
    if (
        version.segment.unit == Unit.ACCOUNT
        or version.exit_rule is None
        or not entry_rules_out_exit(version.entry_rule, version.exit_rule)
    ):
        return None
    resolver = selectors.ReferenceResolver()
    parent_key = version.parent.key if version.parent_id is not None else None
    within = current_members_of(parent_key, resolver) if parent_key else None
    entry = customer_filter(
        version.entry_rule, as_of=as_of, segment_version_id=resolver, within=within, shared=shared
    )
    target = Customer.objects.filter(entry, _not_inactive()).order_by()
    if parent_key:
        target = target.filter(in_current_members_of(parent_key, resolver))

    def leaving(scope: RawSQL) -> QuerySet:
        leaves = customer_filter(
            version.exit_rule,
            as_of=as_of,
            segment_version_id=resolver,
            customer_ids=scope,
            shared=shared,
        ) | Q(active=False)
        if parent_key:
            leaves |= ~in_current_members_of(parent_key, resolver, scope)
        return Customer.objects.filter(leaves, pk__in=scope).order_by().values("pk")

    return target, leaving


def account_target_query(
    *, version: SegmentVersion, as_of: datetime, has_members: bool = True
) -> QuerySet:
    """An account segment's M' as an Account query: E, or (M ∪ E) \\ X, within the parent's."""
    resolver = selectors.ReferenceResolver()

    def matching(rule) -> Q:
        return account_filter(rule, as_of=as_of, segment_version_id=resolver, rollup=version.rollup)

    condition = matching(version.entry_rule)
    if version.exit_rule is not None:
        if has_members:
            current = ACCOUNT.open_spells(version.pk).filter(account_id=OuterRef("pk"))
            condition |= Q(Exists(current))
        condition &= matching({"not": version.exit_rule})
    # An inactive account (its organization NPI deactivated) is never a member either, as
    # for customers (docs/rules.md, "Inactive customers"); its customers still count.
    qs = ACCOUNT.model.objects.filter(condition, active=True).order_by()
    if version.parent_id is not None:
        parent_id = resolver(version.parent.key)
        if parent_id is None:
            return qs.none()
        qs = qs.filter(Exists(ACCOUNT.open_spells(parent_id).filter(account_id=OuterRef("pk"))))
    return qs


def _not_inactive() -> Q:
    """Not among the inactive customers (deactivated NPIs), read from their partial index.

    Written as ``NOT EXISTS``, an anti-join, not as ``NOT IN``: PostgreSQL halves its
    row estimate for a ``NOT IN`` filter and may then scan every customer in parallel
    where a few matches were to be probed (an event count over 60 days at 1M
    customers, 15 matches: 480 ms against 200 ms; bench/README.md, "Unchanged data").
    """
    return ~Q(Exists(Customer.objects.filter(pk=OuterRef("pk"), active=False)))


DIFF_TABLE = "segmentation_recompute_diff"
SCOPE_TABLE = "segmentation_recompute_scope"


def write_scope(scope: list[int]) -> RawSQL:
    """Write the run's scope ids into a temporary table; return a subquery selecting them.

    Written once per incremental run and shared by every segment of it. Every
    place that needs the scope (the target query, each grouped subquery of the
    rule, the current members) reads this one table, so the statements carry
    no id parameters (SQLite's parameter limit) and PostgreSQL plans them from
    the table's statistics.
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


def drop_scope() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(SCOPE_TABLE)}")


# --- full runs: one statement finds the differences ---------------------------------


def ids_sql(ids: QuerySet, *, unit: UnitSpec, column: str) -> tuple[str, list]:
    """The SQL of a one-column query of member ids, even when it is empty by construction.

    Django raises EmptyResultSet for a query it knows selects nothing (a rule
    referring to a segment that has no active version yet, say); the rule then
    simply matches nobody, so the statement selects no rows of the right type.
    """
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:
        kind = "BIGINT" if unit is CUSTOMER else "VARCHAR(64)"
        return f"SELECT CAST(NULL AS {kind}) AS {column} WHERE 1 = 0", []
    return sql, list(params)


def differences_sql(
    *, target: QuerySet, version: SegmentVersion, scope_sql: RawSQL | None = None
) -> tuple[str, list]:
    """One SELECT of (id, direction): M' \\ M as entries and M \\ M' as exits.

    ``target FULL OUTER JOIN current``: a hash full join on PostgreSQL, so M'
    and M are each read once and unchanged members go nowhere. (SQLite has
    FULL OUTER JOIN since 3.39.) With ``scope_sql``, M is read for the scope only.

    M' is a materialised common table expression (PostgreSQL 12+, SQLite 3.35+),
    planned on its own. Inlined into the join, an event count matching few
    customers ("3 opened emails in 60 days": 15 of 1M) was planned as a
    parallel scan of every customer joined to the count, which each of the
    three processes then computed again: 366-414 ms against 141-203 ms planned
    alone, where the count is computed once and its customers looked up
    (bench/README.md, "M' planned on its own").
    """
    unit = unit_of(version)
    sql, params = ids_sql(target.values(cid=F("pk")), unit=unit, column="cid")
    spells = connection.ops.quote_name(unit.table)
    col = unit.column
    in_scope = ""
    if scope_sql is not None:
        in_scope = f" AND {col} IN ({scope_sql.sql})"
    return (
        f"WITH t AS MATERIALIZED ({sql}) "
        f"SELECT COALESCE(t.cid, m.{col}) AS id, "
        f"CASE WHEN m.{col} IS NULL THEN '{Direction.ENTRY}' "
        f"ELSE '{Direction.EXIT}' END AS direction "
        f"FROM t FULL OUTER JOIN "
        f"(SELECT {col} FROM {spells} "
        f"WHERE version_id = %s AND exited_as_of IS NULL{in_scope}) m "
        f"ON m.{col} = t.cid WHERE t.cid IS NULL OR m.{col} IS NULL",
        [*params, version.pk],
    )


def materialise_differences(
    *,
    target: QuerySet,
    version: SegmentVersion,
    leaving: Callable[[RawSQL], QuerySet] | None = None,
) -> tuple[int, int]:
    """Evaluate M' once and keep only its differences from M in a temporary table.

    With unchanged data the table stays empty and nothing else is written.
    ``leaving`` (``ruled_out_exit_split``): ``target`` is T, not M', and the
    members outside it stay unless ``leaving`` selects them. Returns (entered, exited).
    """
    sql, params = differences_sql(target=target, version=version)
    d = connection.ops.quote_name(DIFF_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {d}")
        cursor.execute(f"CREATE TEMPORARY TABLE {d} AS {sql}", params)
        if leaving is not None:
            outside = RawSQL(f"SELECT id FROM {d} WHERE direction = %s", (Direction.EXIT,))
            leave_sql, leave_params = ids_sql(leaving(outside), unit=CUSTOMER, column="pk")
            cursor.execute(
                f"DELETE FROM {d} WHERE direction = %s AND id NOT IN ({leave_sql})",
                [Direction.EXIT, *leave_params],
            )
        cursor.execute(f"SELECT direction, COUNT(*) FROM {d} GROUP BY direction")
        counts = dict(cursor.fetchall())
    return counts.get(Direction.ENTRY, 0), counts.get(Direction.EXIT, 0)


def write_differences(
    *,
    version: SegmentVersion,
    run: RecomputeRun,
    as_of: datetime,
    recorded_at: datetime,
    exited: int,
) -> None:
    """A spell opened for every entry (one INSERT ... SELECT), closed for every exit (one UPDATE).

    Spells go in customer order, so the open-spell key (version, customer)
    grows at its right edge instead of splitting pages all over the index.
    """
    ops = connection.ops
    d = ops.quote_name(DIFF_TABLE)
    unit = unit_of(version)
    spells = ops.quote_name(unit.table)
    stamp = [ops.adapt_datetimefield_value(as_of), ops.adapt_datetimefield_value(recorded_at)]
    entries = f"SELECT id FROM {d} WHERE direction = %s"
    _open_spells(entries, [Direction.ENTRY], version=version, run=run, stamp=stamp)
    with connection.cursor() as cursor:
        if exited:
            cursor.execute(
                f"UPDATE {spells} SET exited_as_of = %s, exited_recorded_at = %s, "
                "exited_run_id = %s WHERE version_id = %s AND exited_as_of IS NULL "
                f"AND {unit.column} IN (SELECT id FROM {d} WHERE direction = %s)",
                [*stamp, run.pk, version.pk, Direction.EXIT],
            )


def write_first_members(
    *,
    target: QuerySet,
    version: SegmentVersion,
    run: RecomputeRun,
    as_of: datetime,
    recorded_at: datetime,
) -> int:
    """A version without members: open a spell for every customer of M' in one INSERT ... SELECT.

    Nobody can leave and everybody in M' enters, so the differences are M'
    itself; writing them straight from the rule's query saves writing and
    reading them back through the temporary table (bench/README.md, "200
    segments"). Returns the number of members.
    """
    unit = unit_of(version)
    ids = target.values("id") if unit is CUSTOMER else target.values(id=F("pk"))
    sql, params = ids_sql(ids, unit=unit, column="id")
    ops = connection.ops
    stamp = [ops.adapt_datetimefield_value(as_of), ops.adapt_datetimefield_value(recorded_at)]
    return _open_spells(sql, list(params), version=version, run=run, stamp=stamp)


def _open_spells(
    ids_sql: str, params: list, *, version: SegmentVersion, run: RecomputeRun, stamp: list
) -> int:
    """Open a spell of ``version`` for every customer id ``ids_sql`` selects (column ``id``).

    One INSERT ... SELECT in customer order, so the open-spell key (version,
    customer) grows at its right edge. ``stamp``: the adapted as_of and
    recorded_at. Returns the number of spells opened.
    """
    unit = unit_of(version)
    spells = connection.ops.quote_name(unit.table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {spells} "
            f"(version_id, {unit.column}, entered_as_of, entered_recorded_at, entered_run_id) "
            f"SELECT %s, t.id, %s, %s, %s FROM ({ids_sql}) t ORDER BY t.id",
            [version.pk, *stamp, run.pk, *params],
        )
        return cursor.rowcount


def analyse_spells() -> None:
    """Refresh the planner's statistics of the spell table, this transaction's rows included.

    A run that writes several levels in one transaction (``recompute.py``,
    shared totals) reads the spells it has just written (references,
    parents) while autovacuum cannot see them yet: with statistics taken
    when the table was nearly empty PostgreSQL plans a million-customer
    query against a "one row" table (a first 200-segment run at 1M
    customers did not finish a parent's query in five minutes). ANALYZE in
    the transaction counts its own rows. A role that does not own the table
    gets a warning and the old statistics; no error.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for unit in (CUSTOMER, ACCOUNT):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(unit.table)}")


def drop_differences() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(DIFF_TABLE)}")


# --- scoped runs: a few thousand customers at most ---------------------------------


def scoped_differences(
    *, target: QuerySet, version: SegmentVersion, scope_sql: RawSQL
) -> tuple[list, list]:
    """(M' \\ M, M \\ M') for the customers in the scope, in one statement, as sorted id lists.

    Both sides are bounded by the scope (``INCREMENTAL_CHUNK`` ids), so holding
    them in memory keeps the worker's memory flat.
    """
    sql, params = differences_sql(target=target, version=version, scope_sql=scope_sql)
    entered: list[int] = []
    exited: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for cid, direction in cursor.fetchall():
            (entered if direction == Direction.ENTRY else exited).append(cid)
    return sorted(entered), sorted(exited)


def write_scoped_differences(
    *,
    version: SegmentVersion,
    run: RecomputeRun,
    entered: list[int],
    exited: list[int],
    as_of: datetime,
    recorded_at: datetime,
) -> None:
    """A scoped run's differences: spells opened in bulk, the exits' open spells closed."""
    unit: UnitSpec = unit_of(version)
    unit.spell.objects.bulk_create(
        [
            unit.spell(
                version_id=version.pk,
                entered_as_of=as_of,
                entered_recorded_at=recorded_at,
                entered_run_id=run.pk,
                **{unit.column: cid},
            )
            for cid in entered
        ]
    )
    if exited:
        unit.open_spells(version.pk).filter(**{f"{unit.column}__in": exited}).update(
            exited_as_of=as_of, exited_recorded_at=recorded_at, exited_run_id=run.pk
        )
