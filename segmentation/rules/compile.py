"""Compilation of a (valid) rule document to a Django ``Q`` over Customer.

Every condition compiles to a *two-valued* SQL predicate: it is TRUE or FALSE
for every customer, never NULL, so ``not`` (SQL ``NOT``) is the exact
complement and three-valued logic can never drop a row. Positive operators
(eq, in, gt, gte, lt, lte, between, contains, is_set) guard nullable columns
with ``IS NOT NULL`` / ``<> ''``; the negative ones (ne, not_in, is_not_set)
are compiled as ``NOT`` of their positive twin. Related data is reached
through ``EXISTS`` (account, attributes, interactions, memberships, rx sums
of one calendar year) or ``id IN (SELECT customer_id ... GROUP BY customer_id
HAVING ...)`` (counts other than "at least one", rx sums over several years),
never through joins that multiply rows. Event counts the customers' latest
interaction times answer read those instead (``recency.py``; docs/rules.md,
"Latest interactions"); rx sums read the per-year monthly sums (RxYear).

Constant sub-results (empty ``all``/``any``, a comparison no value can
satisfy, a reference to a segment without a version) are folded in Python
before any SQL is produced. Field conditions and the SQL helpers live in
``fields.py``; this module compiles events, rx, references and the tree.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from functools import reduce

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.lookups import Exact, GreaterThanOrEqual

from core.time import as_utc
from customers.models import (
    Customer,
    Interaction,
    ReferralNetwork,
    RxYear,
    rx_annual_column,
    rx_month_column,
)
from segmentation.models import AccountMembershipSpell, Membership

from . import recency
from .catalog import get_field
from .fields import Compiled, Restriction, _and, _field, _int_bound, _not, _or, _q, as_q
from .implied import without_decided_negations
from .shared import SharedAggregates, SharedColumn
from .windows import event_window, month_start, rx_window

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


def _compare_total(
    node: dict,
    ctx: _Context,
    comparison: dict,
    exists_one: Callable[[], Q],
    grouped: Callable[[str, int], Q],
) -> Compiled:
    """An event count compared, from the run's shared table when it holds it."""
    shared = ctx.shared_column(node)
    if shared is not None:
        exists_one, grouped = (lambda: shared.compare("gte", 1)), shared.compare
    return _count_compare(comparison["op"], comparison["value"], exists_one, grouped)


def _grouped_q(rows, aggregate, op: str, k: int, ctx: _Context) -> Q:
    having = {"eq": Exact, "gte": GreaterThanOrEqual}[op]
    # Aggregate only the customers asked about, not every customer in the
    # window: an incremental recompute of a few ids then reads a few index
    # ranges. Customers outside the restriction are never asked about.
    rows = ctx.restrict(rows).order_by()
    if ctx.narrow is not None and ctx.probe:
        # A segment's members: one index probe per member (a correlated total),
        # not one pass over the window; PostgreSQL would otherwise scan the
        # whole window (2.4M rx facts for a parent of 42k members at 1M
        # customers, bench/README.md) and hash-join it to the members.
        total = Subquery(
            rows.filter(customer_id=OuterRef("pk"))
            .values("customer_id")
            .annotate(rule_total=aggregate)
            .values("rule_total")
        )
        ids = (
            ctx.narrow.annotate(rule_total=total)
            .filter(_q(having(F("rule_total"), k)))
            .values("pk")
        )
        return Q(pk__in=ids)
    if ctx.narrow is not None:
        rows = rows.filter(customer_id__in=ctx.narrow.values("pk"))
    ids = (
        rows.values("customer_id")
        .annotate(rule_total=aggregate)
        .filter(_q(having(F("rule_total"), k)))
        .values("customer_id")
    )
    return Q(pk__in=ids)


def _event(node: dict, ctx: _Context) -> Compiled:
    count = node.get("count") or {"op": "gte", "value": 1}
    if recency.answers(node):
        # Latest interaction times per customer (docs/rules.md, "Latest
        # interactions").
        exists_one, grouped = recency.totals(node, ctx)
        return _count_compare(count["op"], count["value"], exists_one, grouped)
    return _compare_total(node, ctx, count, *_event_totals(node, ctx))


def _event_totals(node: dict, ctx: _Context) -> tuple[Callable[[], Q], Callable[[str, int], Q]]:
    """``(exists_one, grouped)`` counting the interactions an event condition matches."""
    rows = ctx.restrict(Interaction.objects.filter(customer_id=OuterRef("pk")))
    plain = Interaction.objects.all()
    keys = {k: v for k, v in node["event"].items()}
    window = event_window(ctx.as_of, node.get("within_days"))
    rows = rows.filter(window, **keys)
    plain = plain.filter(window, **keys)
    return (
        lambda: _q(Exists(rows)),
        # COUNT(*), not COUNT(id): the grouped scan can stay index-only.
        lambda op, k: _grouped_q(plain, Count("*"), op, k, ctx),
    )


def _rx(node: dict, ctx: _Context) -> Compiled:
    """An rx sum compared, read from the per-year monthly sums (RxYear).

    The window's months become, per calendar year, a sum of that year's
    month columns. When they lie in one year (any window of up to 12 months
    but those crossing New Year), a customer has at most one row, so every
    comparison is a per-row ``EXISTS``: a hash semi-join over the year's
    rows for a whole population, one index probe per customer for a few.
    Longer and New Year windows sum the rows of their years per customer
    (docs/rules.md, "Rx by calendar year").
    """
    product = node["rx"].get("product") or ""  # "": every product's sums
    years, amount, one_year = rx_year_amount(
        node["metric"], *rx_window(ctx.as_of, node.get("months"))
    )
    rows = RxYear.objects.filter(years, product=product)

    def exists_where(op: str, k: int) -> Q:
        lookup = {"gt": "gt", "gte": "gte", "eq": "exact"}[op]
        matching = ctx.restrict(rows).alias(rule_total=amount)
        matching = matching.filter(**{f"rule_total__{lookup}": k})
        if ctx.narrow is not None:
            # Under an OR PostgreSQL hashes the subquery's every row; narrowed,
            # it reads the rows of the customers the cheap conditions let
            # through only (``nested``: oncologists, not every prescriber).
            return Q(
                pk__in=matching.filter(customer_id__in=ctx.narrow.values("pk")).values(
                    "customer_id"
                )
            )
        return _q(Exists(matching.filter(customer_id=OuterRef("pk"))))

    def grouped(op: str, k: int) -> Q:
        if one_year:
            return exists_where(op, k)
        return _grouped_q(rows, Sum(amount), op, k, ctx)

    comparison = node["sum"]
    # Metrics are integers >= 0, so "sum >= 1" is "some row with a sum > 0".
    return _count_compare(
        comparison["op"], comparison["value"], lambda: exists_where("gt", 0), grouped
    )


def rx_year_amount(metric: str, first: dt.date | None, end: dt.date) -> tuple[Q, Expression, bool]:
    """The RxYear rows and per-row sum of ``metric`` over ``first <= month < end``
    (``rx_window``; ``first`` None: every month before ``end``), and whether
    the window lies in one calendar year.
    """
    last = month_start(end, 1)  # the first day of the window's last month

    def months(low: int, high: int):
        terms = [F(rx_month_column(metric, m)) for m in range(low, high + 1)]
        if low == 1 and high == 12:
            # The window holds the whole year: its yearly facts count too
            # (docs/sources.md, "Yearly facts in rx conditions").
            terms.append(F(rx_annual_column(metric)))
        return reduce(operator.add, terms)

    if first is not None and first.year == last.year:
        return Q(year=last.year), months(first.month, last.month), True
    if first is None:
        years, edges = Q(year__lte=last.year), []
    else:
        years = Q(year__gte=first.year, year__lte=last.year)
        edges = [When(year=first.year, then=months(first.month, 12))]
    edges.append(When(year=last.year, then=months(1, last.month)))
    # Every other year of the window counts all its months.
    amount = Case(*edges, default=months(1, 12), output_field=BigIntegerField())
    return years, amount, False


# -- segment references and the tree ---------------------------------------------


def _segment(node: dict, ctx: _Context) -> Compiled:

    version_id = ctx.segment_version_id(node["segment"])
    if version_id is None:
        return False
    members = Membership.objects.filter(version_id=version_id, customer_id=OuterRef("pk"))
    return _q(Exists(ctx.restrict(members)))


def _account_segment(node: dict, ctx: _Context) -> Compiled:
    """The customer's affiliated account is a current member of an account segment."""
    version_id = ctx.segment_version_id(node["account_segment"])
    if version_id is None:
        return False
    members = AccountMembershipSpell.objects.filter(
        version_id=version_id, exited_as_of__isnull=True, account_id=OuterRef("account_id")
    )
    return _q(Exists(members))


def latest_referral_network(as_of: dt.datetime) -> int | None:
    """The id of the latest referral period ending at or before ``as_of``'s UTC date."""
    return (
        ReferralNetwork.objects.filter(period_end__lte=as_utc(as_of).date())
        .order_by("-period_end")
        .values_list("pk", flat=True)
        .first()
    )


class _Context:
    def __init__(
        self,
        as_of: dt.datetime,
        segment_version_id: Callable[[str], int | None],
        customer_ids: Restriction | None = None,
        within: QuerySet | None = None,
        shared: SharedAggregates | None = None,
    ):
        self.as_of = as_of
        self.segment_version_id = segment_version_id
        self.customer_ids = customer_ids
        self.shared = shared
        self._network: list[int | None] = []
        # Customers (a Customer query) outside which the node being compiled
        # is false, or its result unused, whatever its grouped subqueries say
        # (see _all and customer_filter's ``within``); ``probe`` when they are
        # a segment's members, few enough to probe one by one.
        self.narrow: QuerySet | None = None
        self.probe = within is not None
        if within is not None:
            self.narrow = Customer.objects.filter(pk__in=within).order_by()

    def referral_network(self) -> int | None:
        """The referral period influence fields read (looked up once per compilation)."""
        if not self._network:
            self._network.append(latest_referral_network(self.as_of))
        return self._network[0]

    def narrowed(self, condition: Q, *, probe: bool) -> _Context:
        """A copy whose grouped subqueries aggregate only customers satisfying ``condition``."""
        ctx = _Context(self.as_of, self.segment_version_id, self.customer_ids, shared=self.shared)
        ctx._network = self._network
        ids = Customer.objects.filter(condition).order_by()
        if self.narrow is not None:
            ids = ids.filter(pk__in=self.narrow.values("pk"))
        ctx.narrow = ids
        ctx.probe = probe or self.probe
        return ctx

    def shared_column(self, node: dict) -> SharedColumn | None:
        """The run's shared total for an event condition, if it has one.

        Only for the whole population: a scoped run reads its few customers' rows.
        """
        if self.shared is None or self.customer_ids is not None:
            return None
        return self.shared.event_column(node)

    def restrict(self, rows: QuerySet) -> QuerySet:
        """Limit per-customer rows to the restriction, if any.

        Needed in the grouped subqueries; also applied to the correlated
        EXISTS ones, because PostgreSQL may run those as one hashed subplan
        over every matching row instead of probing per customer.
        """
        if self.customer_ids is None:
            return rows
        return rows.filter(customer_id__in=self.customer_ids)


def on_own_columns(node: dict) -> bool:
    """True for a node made only of conditions on the customer's own columns."""
    if "all" in node or "any" in node:
        return all(on_own_columns(c) for c in node.get("all", node.get("any")))
    if "not" in node:
        return on_own_columns(node["not"])
    if "field" in node:
        spec = get_field(node["field"])
        return spec is not None and spec.scope == "customer"
    return False


def _narrows(node: dict) -> bool:
    """True for a child of ``all`` cheap to test per customer and worth narrowing by:
    conditions on the customer's own columns, and membership of a segment (one
    index lookup; a reference is usually far smaller than the population)."""
    return on_own_columns(node) or "segment" in node


def _all(children: list[dict], ctx: _Context) -> Compiled:
    """AND of the children; the cheap ones narrow the grouped subqueries of the others.

    A customer failing the customer-column children, or not a member of a
    segment the ``all`` references, fails the whole ``all`` whatever the other
    children say, so the event counts and rx sums under it need to aggregate
    only the customers passing them (docs/rules.md's example: the rep visits
    of ~4% of customers, not of all; a reference: its members' only). The
    result is the same two-valued predicate for every customer. Only when the
    scope is the whole population: an incremental scope already bounds those
    subqueries.

    A negated event condition that a sibling event condition already decides
    is left out (``implied.py``: "3 visits in 30 days" rules out "no visit in
    90 days"), so its latest times are not read again for every candidate.
    """
    children = without_decided_negations(children)
    plain = [c for c in children if _narrows(c)]
    other = [c for c in children if not _narrows(c)]
    head = _and([_compile(c, ctx) for c in plain])
    if head is False:
        return False
    inner = ctx
    if isinstance(head, Q) and other and ctx.customer_ids is None:
        inner = ctx.narrowed(head, probe=any("segment" in c for c in plain))
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
    if "account_segment" in node:
        return _account_segment(node, ctx)
    raise ValueError("not a rule node (validate_rule first)")


def compile_rule(
    rule: dict,
    *,
    as_of: dt.datetime,
    segment_version_id: Callable[[str], int | None],
    customer_ids: Restriction | None = None,
    within: QuerySet | None = None,
    shared: SharedAggregates | None = None,
) -> Compiled:
    """Compile ``rule`` to a Q, or to True/False when it is constant.

    ``customer_ids``, ``within``, ``shared``: see :func:`customer_filter`.
    """
    ctx = _Context(as_utc(as_of), segment_version_id, customer_ids, within, shared)
    return _compile(rule, ctx)


def customer_filter(
    rule: dict,
    *,
    as_of: dt.datetime,
    segment_version_id: Callable[[str], int | None],
    customer_ids: Restriction | None = None,
    within: QuerySet | None = None,
    shared: SharedAggregates | None = None,
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

    ``within`` (a query selecting customer ids, e.g. a parent segment's
    members) says the same for a set that may be large: the grouped
    subqueries aggregate only those customers (combined with the narrowing of
    each ``all``), the correlated ``EXISTS`` are left to the planner. The Q is
    exact for the customers in ``within``; the caller restricts to them.

    ``shared`` (materialised :class:`~segmentation.rules.shared.SharedAggregates`
    planned for this rule, among others, at the same ``as_of``) answers the
    event and rx conditions it holds from its tables; the Q is the same set.
    """
    compiled = compile_rule(
        rule,
        as_of=as_of,
        segment_version_id=segment_version_id,
        customer_ids=customer_ids,
        within=within,
        shared=shared,
    )
    return as_q(compiled)
