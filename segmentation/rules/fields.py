"""Field conditions (customer columns, account columns, attributes) and the SQL helpers.

Every condition compiles to a *two-valued* predicate (docs/rules.md,
"Missing values"): positive operators guard nullable columns with
``IS NOT NULL`` / ``<> ''``; the negative ones are ``NOT`` of their positive
twin. Split from ``compile.py`` by job: this module knows columns, that one
knows related rows (events, rx, references) and the tree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Exists, Expression, F, Func, OuterRef, Q, QuerySet, Value
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

from customers.models import Account, CustomerAttribute, Influence

from .catalog import BOOLEAN, DATE, DECIMAL, INTEGER, FieldSpec, get_field
from .validate import is_number

if TYPE_CHECKING:
    from .compile import _Context

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


def as_q(compiled: Compiled) -> Q:
    """A compiled rule as a Q (a constant becomes an always/never true one)."""
    if compiled is True:
        return ~Q(pk__in=[])
    if compiled is False:
        return Q(pk__in=[])
    return compiled


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


def value_present(spec: FieldSpec) -> Compiled:
    """The Q, over the row that holds ``spec``'s value, true when that value is present.

    The row is the Customer, the Account (``account.`` paths) or the
    CustomerAttribute (``attr.`` paths; the Q also selects the key). It is the
    ``is_set`` that field conditions use (docs/rules.md, "Missing values"), so
    the preview's missing shares count exactly what the rules treat as missing.
    """
    if spec.scope == "attr":
        return _and([_q(Exact(F("key"), spec.column)), ~_q(Exact(F("value"), ""))])
    return _column_positive(spec.column, spec.type, spec.nullable, "is_set", None)


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
    if spec.scope == "influence":
        return _influence_positive(spec, op, value, ctx)
    return _attr_positive(spec.column, op, value, ctx)


def _influence_positive(spec: FieldSpec, op: str, value: Any, ctx: _Context) -> Compiled:
    """Exists the customer's influence row of the latest period at or before as_of
    whose value is present and satisfies ``op`` (no such period: missing for all)."""
    network = ctx.referral_network()
    if network is None:
        return False
    inner = _column_positive(spec.column, spec.type, spec.nullable, op, value)
    if inner is False:
        return False
    rows = ctx.restrict(Influence.objects.filter(customer_id=OuterRef("pk"), network_id=network))
    if inner is not True:
        rows = rows.filter(inner)
    return _q(Exists(rows))


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
