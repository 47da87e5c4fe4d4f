"""Compilation of a (valid) rule document to a Django ``Q`` over Customer.

Every condition compiles to a *two-valued* SQL predicate: it is TRUE or FALSE
for every customer, never NULL, so ``not`` (SQL ``NOT``) is the exact
complement and three-valued logic can never drop a row. Positive operators
(eq, in, gt, gte, lt, lte, between, contains, is_set) guard nullable columns
with ``IS NOT NULL`` / ``<> ''``; the negative ones (ne, not_in, is_not_set)
are compiled as ``NOT`` of their positive twin. Related data is reached
through ``EXISTS`` (account, attributes, interactions, memberships) or
``id IN (SELECT customer_id ... GROUP BY customer_id HAVING ...)`` (counts
other than "at least one" and rx sums), never through joins that multiply
rows.

Constant sub-results (empty ``all``/``any``, a comparison no value can
satisfy, a reference to a segment without a version) are folded in Python
before any SQL is produced.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from django.db.models import (
    CharField,
    Count,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import StrIndex
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from core.time import as_utc
from customers.models import Account, Customer, CustomerAttribute, Interaction, RxFact
from segmentation.models import Membership

from .catalog import BOOLEAN, DATE, DECIMAL, INTEGER, FieldSpec, get_field
from .validate import is_number

# A compiled node: a Q, or a constant folded in Python.
Compiled = Q | bool
# Customer ids a compiled Q will be evaluated for: ids, or a query/expression selecting them.
Restriction = Collection[int] | QuerySet | Expression

# Integer bounds beyond this are clamped (no stored integer comes near it, and
# SQLite refuses Python ints wider than 64 bits).
INT_LIMIT = 2**62

_LOOKUPS = {
    "eq": Exact,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
_NEGATIVE = {"ne": "eq", "not_in": "in", "is_not_set": "is_set"}


# -- SQL helpers ----------------------------------------------------------------


def _py_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


class UnicodeLower(Func):
    """``LOWER()`` with full Unicode case mapping on both databases.

    SQLite's built-in LOWER folds ASCII only; on SQLite this calls Python's
    ``str.lower`` (registered on the connection), which agrees with
    PostgreSQL's LOWER under a UTF-8 locale for the letters that matter.
    """

    function = "LOWER"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function(
            "SEGMENT_RULES_LOWER", 1, _py_lower, deterministic=True
        )
        return super().as_sql(compiler, connection, function="SEGMENT_RULES_LOWER", **extra_context)


class ByteOrder(Func):
    """Compare strings in code-point order on both databases.

    SQLite's default BINARY collation already is; PostgreSQL's database
    collation may be a locale's, so the column gets ``COLLATE "C"`` there.
    """

    template = "%(expressions)s"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template='(%(expressions)s) COLLATE "C"', **extra_context
        )


def _and(parts: list[Compiled]) -> Compiled:
    out: Q | None = None
    for part in parts:
        if part is False:
            return False
        if part is True:
            continue
        out = part if out is None else out & part
    return True if out is None else out


def _or(parts: list[Compiled]) -> Compiled:
    out: Q | None = None
    for part in parts:
        if part is True:
            return True
        if part is False:
            continue
        out = part if out is None else out | part
    return False if out is None else out


def _not(part: Compiled) -> Compiled:
    if isinstance(part, bool):
        return not part
    return ~part


def _q(expression: Any) -> Q:
    return Q(expression)


def _clamp(n: int) -> int:
    return max(-INT_LIMIT, min(INT_LIMIT, n))


def _int_bound(op: str, value: int | float) -> tuple[str, int] | bool:
    """Restate ``x op value`` for an integer-valued x with an integer bound.

    Non-integral bounds are rounded the way that keeps the comparison exact
    (x > 7.5 is x > 7; x >= 7.5 is x >= 8); eq/ne with a non-integral value
    are constant (x == 7.5 never holds).
    """
    if op in ("eq", "ne"):
        if isinstance(value, float) and not value.is_integer():
            return op == "ne"
        return op, _clamp(int(value))
    if op in ("gt", "lte"):
        return op, _clamp(math.floor(value))
    return op, _clamp(math.ceil(value))  # gte, lt


def _decimal(value: int | float) -> Decimal:
    # repr of a float is the shortest string that round-trips: 0.1 -> "0.1".
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# -- field conditions -----------------------------------------------------------


def _present(column: str, spec_type: str, nullable: bool) -> Compiled:
    """The column holds a value (not NULL, and not "" for strings)."""
    col = F(column)
    parts: list[Compiled] = []
    if nullable:
        parts.append(_q(IsNull(col, False)))
    if spec_type not in (INTEGER, DECIMAL, BOOLEAN, DATE):
        parts.append(~_q(Exact(col, "")))
    return _and(parts)


def _coerce(spec_type: str, value: Any) -> Any:
    if spec_type == DATE:
        return dt.date.fromisoformat(value)
    if spec_type == DECIMAL:
        return _decimal(value)
    return value


def _column_positive(column: str, spec_type: str, nullable: bool, op: str, value: Any) -> Compiled:
    """A positive operator on one column of a row (customer or account), two-valued."""
    present = _present(column, spec_type, nullable)
    col = F(column)
    if op == "is_set":
        return present
    if op == "contains":
        found = _q(GreaterThan(StrIndex(UnicodeLower(col), UnicodeLower(Value(value))), 0))
        return _and([present, found])
    if spec_type == INTEGER:
        return _and([present, _integer_compare(col, op, value)])
    if op == "in":
        values = [_coerce(spec_type, v) for v in value if v != ""]
        if spec_type == BOOLEAN:
            values = list(dict.fromkeys(values))
        return _and([present, _q(In(col, values))]) if values else False
    if op == "between":
        lo, hi = (_coerce(spec_type, v) for v in value)
        return _and([present, _q(GreaterThanOrEqual(col, lo)), _q(LessThanOrEqual(col, hi))])
    if op == "eq" and value == "":
        return False  # a present string is never ""
    return _and([present, _q(_LOOKUPS[op](col, _coerce(spec_type, value)))])


def _integer_compare(col: F, op: str, value: Any) -> Compiled:
    if op == "in":
        kept = [v for v in value if not (isinstance(v, float) and not v.is_integer())]
        ints = sorted({_clamp(int(v)) for v in kept})
        return _q(In(col, ints)) if ints else False
    if op == "between":
        lo, hi = value
        return _and([_integer_compare(col, "gte", lo), _integer_compare(col, "lte", hi)])
    bound = _int_bound(op, value)
    if isinstance(bound, bool):
        return bound
    op2, n = bound
    return _q(_LOOKUPS[op2](col, n))


def _field(node: dict, ctx: _Context) -> Compiled:
    spec = get_field(node["field"])
    if spec is None:  # validate_rule refuses this; never match silently otherwise
        raise ValueError(f"unknown field {node['field']!r}")
    op = node["op"]
    value = node.get("value")
    positive_op = _NEGATIVE.get(op, op)
    positive = _field_positive(spec, positive_op, value, ctx)
    return _not(positive) if op in _NEGATIVE else positive


def _field_positive(spec: FieldSpec, op: str, value: Any, ctx: _Context) -> Compiled:
    if spec.scope == "customer":
        return _column_positive(spec.column, spec.type, spec.nullable, op, value)
    if spec.scope == "account":
        if spec.column == "account_id":
            # The account's id is the customer's affiliation: no subquery needed.
            return _column_positive("account_id", spec.type, True, op, value)
        inner = _column_positive(spec.column, spec.type, spec.nullable, op, value)
        if inner is False:
            return False

        accounts = Account.objects.filter(pk=OuterRef("account_id"))
        if inner is not True:
            accounts = accounts.filter(inner)
        return _q(Exists(accounts))
    return _attr_positive(spec.column, op, value, ctx)


def _attr_positive(key: str, op: str, value: Any, ctx: _Context) -> Compiled:
    """Exists an attribute row for ``key`` whose value is present and satisfies ``op``."""

    if op == "is_set":
        numeric = False
        cond: Compiled = True
    elif op == "contains":
        numeric = False
        cond = _q(GreaterThan(StrIndex(UnicodeLower(F("value")), UnicodeLower(Value(value))), 0))
    else:
        values = value if isinstance(value, list) else [value]
        numeric = all(is_number(v) for v in values)
        if numeric:
            cond = _attr_numeric(op, value)
        else:
            cond = _attr_string(op, value)
    if cond is False:
        return False
    rows = ctx.restrict(CustomerAttribute.objects.filter(customer_id=OuterRef("pk"), key=key))
    if numeric:
        rows = rows.filter(number__isnull=False)
    else:
        rows = rows.exclude(value="")
    if cond is not True:
        rows = rows.filter(cond)
    return _q(Exists(rows))


def _attr_numeric(op: str, value: Any) -> Compiled:
    col = F("number")
    if op == "in":
        return _q(In(col, sorted({_decimal(v) for v in value})))
    if op == "between":
        lo, hi = value
        return _and(
            [
                _q(GreaterThanOrEqual(col, _decimal(lo))),
                _q(LessThanOrEqual(col, _decimal(hi))),
            ]
        )
    return _q(_LOOKUPS[op](col, _decimal(value)))


def _attr_string(op: str, value: Any) -> Compiled:
    col = F("value")
    if op == "in":
        values = sorted({v for v in value if v != ""})
        return _q(In(col, values)) if values else False
    if op == "eq":
        return _q(Exact(col, value)) if value != "" else False
    ordered = ByteOrder(col)
    if op == "between":
        lo, hi = value
        return _and([_q(GreaterThanOrEqual(ordered, lo)), _q(LessThanOrEqual(ordered, hi))])
    return _q(_LOOKUPS[op](ordered, value))


# -- event and rx conditions ------------------------------------------------------


def _at_least(k: int, exists_one: Callable[[], Q], grouped: Callable[[str, int], Q]) -> Compiled:
    """``x >= k`` for a non-negative integer x per customer."""
    if k <= 0:
        return True
    if k == 1:
        return exists_one()
    return grouped("gte", k)


def _count_compare(
    op: str,
    value: int | float,
    exists_one: Callable[[], Q],
    grouped: Callable[[str, int], Q],
) -> Compiled:
    """``x op value`` for a non-negative integer x that is 0 for customers without rows.

    ``exists_one()`` is "x >= 1" as an EXISTS (a semi-join);
    ``grouped(op, k)`` is "x op k" over customers that have rows (k >= 1).
    """
    bound = _int_bound(op, value)
    if isinstance(bound, bool):
        return bound
    op, k = bound
    if op == "gte":
        return _at_least(k, exists_one, grouped)
    if op == "gt":
        return _at_least(k + 1, exists_one, grouped)
    if op == "lt":
        return _not(_at_least(k, exists_one, grouped))
    if op == "lte":
        return _not(_at_least(k + 1, exists_one, grouped))
    # eq / ne
    if k < 0:
        equal: Compiled = False
    elif k == 0:
        equal = _not(exists_one())
    else:
        equal = grouped("eq", k)
    return equal if op == "eq" else _not(equal)


def _grouped_q(rows, aggregate, op: str, k: int, ctx: _Context) -> Q:
    having = {"eq": Exact, "gte": GreaterThanOrEqual}[op]
    # Aggregate only the customers asked about, not every customer in the
    # window: an incremental recompute of a few ids then reads a few index
    # ranges. Customers outside the restriction are never asked about.
    rows = ctx.restrict(rows)
    if ctx.narrow is not None:
        rows = rows.filter(customer_id__in=ctx.narrow)
    ids = (
        rows.order_by()
        .values("customer_id")
        .annotate(rule_total=aggregate)
        .filter(_q(having(F("rule_total"), k)))
        .values("customer_id")
    )
    return Q(pk__in=ids)


def _event(node: dict, ctx: _Context) -> Compiled:

    rows = ctx.restrict(Interaction.objects.filter(customer_id=OuterRef("pk")))
    plain = Interaction.objects.all()
    keys = {k: v for k, v in node["event"].items()}
    window = Q(occurred_at__lte=ctx.as_of)
    if "within_days" in node:
        try:
            start = ctx.as_of - dt.timedelta(days=node["within_days"])
        except OverflowError:
            start = None
        if start is not None:
            window &= Q(occurred_at__gt=start)
    rows = rows.filter(window, **keys)
    plain = plain.filter(window, **keys)
    count = node.get("count") or {"op": "gte", "value": 1}
    return _count_compare(
        count["op"],
        count["value"],
        lambda: _q(Exists(rows)),
        # COUNT(*), not COUNT(id): the grouped scan can stay index-only.
        lambda op, k: _grouped_q(plain, Count("*"), op, k, ctx),
    )


def _month_start(day: dt.date, months_back: int) -> dt.date | None:
    index = day.year * 12 + (day.month - 1) - months_back
    year, month = divmod(index, 12)
    if year < 1:
        return None
    return dt.date(year, month + 1, 1)


def _rx(node: dict, ctx: _Context) -> Compiled:

    metric = node["metric"]
    today = ctx.as_of.date()
    # Facts are keyed by the month's first day; "< next month" also holds any day in it.
    window = Q(month__lt=_month_start(today, -1))
    if "months" in node:
        first = _month_start(today, node["months"] - 1)
        if first is not None:
            window &= Q(month__gte=first)
    product = node["rx"].get("product")
    if product is not None:
        window &= Q(product=product)
    plain = RxFact.objects.filter(window)
    # Metrics are integers >= 0, so "sum >= 1" is "some fact with metric > 0".
    rows = ctx.restrict(
        RxFact.objects.filter(window, customer_id=OuterRef("pk"), **{f"{metric}__gt": 0})
    )
    return _count_compare(
        node["sum"]["op"],
        node["sum"]["value"],
        lambda: _q(Exists(rows)),
        lambda op, k: _grouped_q(plain, Sum(metric), op, k, ctx),
    )


# -- segment references and the tree ---------------------------------------------


def _segment(node: dict, ctx: _Context) -> Compiled:

    version_id = ctx.segment_version_id(node["segment"])
    if version_id is None:
        return False
    members = Membership.objects.filter(version_id=version_id, customer_id=OuterRef("pk"))
    return _q(Exists(ctx.restrict(members)))


class _Context:
    def __init__(
        self,
        as_of: dt.datetime,
        segment_version_id: Callable[[str], int | None],
        customer_ids: Restriction | None = None,
    ):
        self.as_of = as_of
        self.segment_version_id = segment_version_id
        self.customer_ids = customer_ids
        # Customers (a Customer query of ids) outside which the node being
        # compiled is false whatever its grouped subqueries say: see _all.
        self.narrow: QuerySet | None = None

    def narrowed(self, condition: Q) -> _Context:
        """A copy whose grouped subqueries aggregate only customers satisfying ``condition``."""
        ctx = _Context(self.as_of, self.segment_version_id, self.customer_ids)
        ids = Customer.objects.filter(condition)
        if self.narrow is not None:
            ids = ids.filter(pk__in=self.narrow)
        ctx.narrow = ids.order_by().values("pk")
        return ctx

    def restrict(self, rows: QuerySet) -> QuerySet:
        """Limit per-customer rows to the restriction, if any.

        Needed in the grouped subqueries; also applied to the correlated
        EXISTS ones, because PostgreSQL may run those as one hashed subplan
        over every matching row instead of probing per customer.
        """
        if self.customer_ids is None:
            return rows
        return rows.filter(customer_id__in=self.customer_ids)


def _customer_only(node: dict) -> bool:
    """True for a node made only of conditions on the customer's own columns."""
    if "all" in node or "any" in node:
        return all(_customer_only(c) for c in node.get("all", node.get("any")))
    if "not" in node:
        return _customer_only(node["not"])
    if "field" in node:
        spec = get_field(node["field"])
        return spec is not None and spec.scope == "customer"
    return False


def _all(children: list[dict], ctx: _Context) -> Compiled:
    """AND of the children; their customer-column conditions narrow the grouped subqueries.

    A customer failing the customer-column children fails the whole ``all``
    whatever the other children say, so the event counts and rx sums under
    it need to aggregate only the customers passing them (docs/rules.md's example:
    the rep visits of ~4% of customers, not of all). The result is the same
    two-valued predicate for every customer. Only when the scope is the whole
    population: an incremental scope already bounds those subqueries.
    """
    plain = [c for c in children if _customer_only(c)]
    other = [c for c in children if not _customer_only(c)]
    head = _and([_compile(c, ctx) for c in plain])
    if head is False:
        return False
    inner = ctx
    if isinstance(head, Q) and other and ctx.customer_ids is None:
        inner = ctx.narrowed(head)
    return _and([head, *(_compile(c, inner) for c in other)])


def _compile(node: dict, ctx: _Context) -> Compiled:
    if "all" in node:
        return _all(node["all"], ctx)
    if "any" in node:
        return _or([_compile(child, ctx) for child in node["any"]])
    if "not" in node:
        return _not(_compile(node["not"], ctx))
    if "field" in node:
        return _field(node, ctx)
    if "event" in node:
        return _event(node, ctx)
    if "rx" in node:
        return _rx(node, ctx)
    if "segment" in node:
        return _segment(node, ctx)
    raise ValueError("not a rule node (validate_rule first)")


def compile_rule(
    rule: dict,
    *,
    as_of: dt.datetime,
    segment_version_id: Callable[[str], int | None],
    customer_ids: Restriction | None = None,
) -> Compiled:
    """Compile ``rule`` to a Q, or to True/False when it is constant.

    ``customer_ids``: see :func:`customer_filter`.
    """
    return _compile(rule, _Context(as_utc(as_of), segment_version_id, customer_ids))


def customer_filter(
    rule: dict,
    *,
    as_of: dt.datetime,
    segment_version_id: Callable[[str], int | None],
    customer_ids: Restriction | None = None,
) -> Q:
    """A Q over Customer, true exactly for the customers matching ``rule`` at ``as_of``.

    ``rule`` must have passed :func:`validate_rule`. ``as_of`` is an aware
    datetime (converted to UTC; a naive one is taken as UTC).
    ``segment_version_id(key)`` names the version whose Membership rows are
    the current members of a referenced segment (None: nobody). The Q is
    two-valued, so ``~customer_filter(...)`` is its exact complement.

    ``customer_ids`` (a collection of ids, or a query/expression selecting
    them) says the Q will only be evaluated for those customers: it is pushed
    into the grouped subqueries (event counts, rx sums) so that they aggregate
    those customers only. The Q (and its complement) is then exact for the
    customers in the restriction and meaningless for the others, so the caller
    must restrict the Customer query to the same ids.
    """
    compiled = compile_rule(
        rule, as_of=as_of, segment_version_id=segment_version_id, customer_ids=customer_ids
    )
    if compiled is True:
        return ~Q(pk__in=[])
    if compiled is False:
        return Q(pk__in=[])
    return compiled
