"""Compilation of an account segment's rule to a ``Q`` over Account (docs/rules.md,
"Account segments").

The same engine as the customer rules: every condition is a two-valued
predicate over the accounts, set-based, never a loop over accounts.

* Own fields and ``parent.`` fields use the customer compiler's column
  predicates (``fields._column_positive``) on Account's columns; ``parent.``
  is an ``EXISTS`` on the parent row, so an account without a parent has them
  missing.
* ``members``, ``event`` and ``rx`` aggregate rows of the affiliated
  customers per account in one grouped statement: ``pk IN (SELECT account
  ... GROUP BY account HAVING ...)``. The nested customer rule of ``members``
  is compiled by the customer compiler (``compile.customer_filter``).
  With ``rollup: "hierarchy"`` the rows are attributed to the customer's
  account and every account above it, through a recursive common table
  expression over the parent chain (``closure(anc, des)``: every account and
  each of its descendants, itself included).
* ``coverage`` reads the latest coverage row with ``effective_from`` on or
  before the as_of date.
* ``segment`` is a current member of another account segment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from core.time import as_utc
from customers.models import Account, Coverage, Customer, Interaction, RxFact
from segmentation.models import AccountMembershipSpell

from .catalog import get_account_field
from .compile import _count_compare, customer_filter
from .fields import Compiled, _and, _column_positive, _int_bound, _not, _or, _q, as_q
from .windows import event_window, rx_window

_NEGATIVE = {"ne": "eq", "not_in": "in", "is_not_set": "is_set"}
_SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def closure_cte() -> str:
    """``closure(anc, des)``: each account with itself and every account below it."""
    a = connection.ops.quote_name(Account._meta.db_table)
    return (
        "closure(anc, des) AS (SELECT account_id, account_id FROM "
        f"{a} UNION ALL SELECT c.anc, x.account_id FROM closure c "
        f"JOIN {a} x ON x.parent_id = c.des)"
    )


class _AccountContext:
    def __init__(
        self,
        as_of: dt.datetime,
        segment_version_id: Callable[[str], int | None],
        rollup: str,
    ):
        self.as_of = as_of
        self.segment_version_id = segment_version_id
        self.hierarchy = rollup == "hierarchy"

    def totals(self, rows: QuerySet, amount: str) -> tuple[str, list]:
        """``SELECT a, n``: per account, ``amount`` (``COUNT(*)`` or ``SUM(r.amount)``)
        over ``rows`` (a query with column ``acct``, the customer's account, and
        ``amount`` for sums), attributed by the rollup."""
        sql, params = rows.query.sql_with_params()
        if self.hierarchy:
            return (
                f"WITH RECURSIVE {closure_cte()} SELECT cl.anc AS a, {amount} AS n "
                f"FROM ({sql}) r JOIN closure cl ON cl.des = r.acct GROUP BY cl.anc",
                list(params),
            )
        return (
            f"SELECT r.acct AS a, {amount} AS n FROM ({sql}) r "
            "WHERE r.acct IS NOT NULL GROUP BY r.acct",
            list(params),
        )

    def compare_total(self, rows: QuerySet, amount: str, op: str, value) -> Compiled:
        """``total op value`` per account, the total 0 for accounts without rows."""

        def grouped(op2: str, k: int) -> Q:
            sql, params = self.totals(rows, amount)
            return Q(
                pk__in=RawSQL(
                    f"SELECT t.a FROM ({sql}) t WHERE t.n {_SQL_OPS[op2]} %s", [*params, k]
                )
            )

        return _count_compare(op, value, lambda: grouped("gte", 1), grouped)


def _field(node: dict, ctx: _AccountContext) -> Compiled:
    spec = get_account_field(node["field"])
    if spec is None:
        raise ValueError(f"unknown account field {node['field']!r}")
    op = node["op"]
    positive_op = _NEGATIVE.get(op, op)
    value = node.get("value")
    if spec.scope == "own":
        positive = _column_positive(spec.column, spec.type, spec.nullable, positive_op, value)
    elif spec.column == "account_id":
        # The parent's id is the account's own parent_id.
        positive = _column_positive("parent_id", spec.type, True, positive_op, value)
    else:
        inner = _column_positive(spec.column, spec.type, spec.nullable, positive_op, value)
        if inner is False:
            positive = False
        else:
            parents = Account.objects.filter(pk=OuterRef("parent_id"))
            if inner is not True:
                parents = parents.filter(inner)
            positive = _q(Exists(parents))
    return _not(positive) if op in _NEGATIVE else positive


def _customer_rows(condition: Q | None) -> QuerySet:
    qs = Customer.objects.order_by()
    if condition is not None:
        qs = qs.filter(condition)
    return qs.values(acct=F("account_id"))


def _members(node: dict, ctx: _AccountContext) -> Compiled:
    """How many affiliated customers match the customer rule (``count``), and which
    share of them (``share``); both must hold. Without either: count >= 1."""
    matching = customer_filter(
        node["members"], as_of=ctx.as_of, segment_version_id=ctx.segment_version_id
    )
    rows = _customer_rows(matching)
    parts: list[Compiled] = []
    count = node.get("count")
    if count is None and "share" not in node:
        count = {"op": "gte", "value": 1}
    if count is not None:
        parts.append(ctx.compare_total(rows, "COUNT(*)", count["op"], count["value"]))
    if "share" in node:
        parts.append(_share(rows, node["share"], ctx))
    return _and(parts)


def _share(matching: QuerySet, cmp: dict, ctx: _AccountContext) -> Q:
    """matched / affiliated ``op`` value, for accounts with at least one affiliated customer.

    The division is in double precision on both databases (IEEE, as a float
    division elsewhere would give); an account without affiliated customers
    never matches.
    """
    real = "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"
    all_sql, all_params = ctx.totals(_customer_rows(None), "COUNT(*)")
    m_sql, m_params = ctx.totals(matching, "COUNT(*)")
    sql = (
        f"SELECT t.a FROM ({all_sql}) t LEFT JOIN ({m_sql}) m ON m.a = t.a "
        f"WHERE t.n > 0 AND CAST(COALESCE(m.n, 0) AS {real}) / t.n {_SQL_OPS[cmp['op']]} %s"
    )
    return Q(pk__in=RawSQL(sql, [*all_params, *m_params, float(cmp["value"])]))


def _event(node: dict, ctx: _AccountContext) -> Compiled:
    rows = (
        Interaction.objects.filter(
            event_window(ctx.as_of, node.get("within_days")), **node["event"]
        )
        .order_by()
        .values(acct=F("customer__account_id"))
    )
    count = node.get("count") or {"op": "gte", "value": 1}
    return ctx.compare_total(rows, "COUNT(*)", count["op"], count["value"])


def _rx(node: dict, ctx: _AccountContext) -> Compiled:
    first, end = rx_window(ctx.as_of, node.get("months"))
    rows = RxFact.objects.filter(month__lt=end)
    if first is not None:
        rows = rows.filter(month__gte=first)
    product = node["rx"].get("product")
    if product:
        rows = rows.filter(product=product)
    rows = rows.order_by().values(acct=F("customer__account_id"), amount=F(node["metric"]))
    comparison = node["sum"]
    return ctx.compare_total(rows, "SUM(r.amount)", comparison["op"], comparison["value"])


def _coverage(node: dict, ctx: _AccountContext) -> Compiled:
    """The latest coverage row for the product at the as_of date: a missing row makes
    ``status in`` false, ``status not_in`` true and ``lives`` false."""
    product = node["coverage"]["product"]
    day = ctx.as_of.date()
    later = Coverage.objects.filter(
        account_id=OuterRef("account_id"),
        product=product,
        effective_from__gt=OuterRef("effective_from"),
        effective_from__lte=day,
    )
    latest = Coverage.objects.filter(
        account_id=OuterRef("pk"), product=product, effective_from__lte=day
    ).filter(~Exists(later))

    def having(condition: Q | None) -> Q:
        rows = latest if condition is None else latest.filter(condition)
        return _q(Exists(rows))

    parts: list[Compiled] = []
    status = node.get("status")
    if status is not None:
        found = having(Q(status__in=list(status["value"])))
        parts.append(found if status["op"] == "in" else _not(found))
    lives = node.get("lives")
    if lives is not None:
        bound = _int_bound(lives["op"], lives["value"])
        if isinstance(bound, bool):
            parts.append(having(None) if bound else False)
        else:
            op, k = bound
            condition = ~Q(lives=k) if op == "ne" else Q(**{f"lives__{_lookup(op)}": k})
            parts.append(having(condition))
    if status is None and lives is None:
        parts.append(having(None))
    return _and(parts)


def _lookup(op: str) -> str:
    return {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}[op]


def _segment(node: dict, ctx: _AccountContext) -> Compiled:
    version_id = ctx.segment_version_id(node["segment"])
    if version_id is None:
        return False
    members = AccountMembershipSpell.objects.filter(
        version_id=version_id, exited_as_of__isnull=True, account_id=OuterRef("pk")
    )
    return _q(Exists(members))


def _compile(node: dict, ctx: _AccountContext) -> Compiled:
    if "all" in node:
        return _and([_compile(child, ctx) for child in node["all"]])
    if "any" in node:
        return _or([_compile(child, ctx) for child in node["any"]])
    if "not" in node:
        return _not(_compile(node["not"], ctx))
    for kind, compile_kind in (
        ("field", _field),
        ("members", _members),
        ("event", _event),
        ("rx", _rx),
        ("coverage", _coverage),
        ("segment", _segment),
    ):
        if kind in node:
            return compile_kind(node, ctx)
    raise ValueError("not an account rule node (validate_rule first)")


def account_filter(
    rule: dict,
    *,
    as_of: dt.datetime,
    segment_version_id: Callable[[str], int | None],
    rollup: str = "direct",
) -> Q:
    """A Q over Account, true exactly for the accounts matching ``rule`` at ``as_of``.

    ``rule`` must have passed ``validate_rule(..., unit="account")``. Two-valued,
    so ``~account_filter(...)`` is its exact complement.
    """
    compiled = _compile(rule, _AccountContext(as_utc(as_of), segment_version_id, rollup))
    return as_q(compiled)
