"""Event counts answered from each customer's latest interaction times.

``customers.InteractionRecency`` keeps, per customer and facet (every
interaction, one channel, one topic), the ``RECENT_KEPT`` latest
``occurred_at`` values, kept exact by database triggers. For a customer none
of whose interactions in the facet is after ``as_of``, "at least m such
interactions in ``(start, as_of]``" is ``last_m > start`` (``last_m IS NOT
NULL`` without a window), for any m up to ``RECENT_KEPT``: one row per
customer instead of every interaction in the window, and no grouping
(docs/rules.md, "Latest interactions").

A customer whose latest interaction in the facet is after ``as_of`` (a
backdated recompute, or future-dated data) has that row's interactions
counted instead, in the same statement: the result is the same set as
counting, for every ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from customers.models import RECENT_KEPT, Interaction, InteractionRecency, recency_facet

from .fields import _int_bound, _q
from .windows import event_start, event_window

if TYPE_CHECKING:
    from .compile import _Context


def thresholds(count: dict) -> list[int]:
    """The m of every "count >= m" that ``count`` (a comparison) is made of."""
    bound = _int_bound(count["op"], count["value"])
    if isinstance(bound, bool):
        return []
    op, k = bound
    needed = {"gte": [k], "lt": [k], "gt": [k + 1], "lte": [k + 1]}.get(op, [k, k + 1])
    return [m for m in needed if m >= 1]


def answers(node: dict) -> bool:
    """True when the event condition ``node`` is answered from InteractionRecency."""
    if recency_facet(node["event"]) is None:
        return False
    count = node.get("count") or {"op": "gte", "value": 1}
    return all(m <= RECENT_KEPT for m in thresholds(count))


def _counted(node: dict, ctx: _Context, start):
    """The number of the recency row's customer's interactions the condition counts.

    PostgreSQL: the function ``customers_interactions_counted`` (migration
    customers/0009), declared cheap so that the planner costs the recency
    scan as the plain filter it nearly always is; it runs only for rows
    with a time after ``as_of``. SQLite: the same count as a correlated
    subquery.
    """
    if connection.vendor == "postgresql":
        return Func(
            F("customer_id"),
            Value(recency_facet(node["event"])),
            Value(start, output_field=DateTimeField()),
            Value(ctx.as_of, output_field=DateTimeField()),
            function="customers_interactions_counted",
            output_field=BigIntegerField(),
        )
    window = event_window(ctx.as_of, node.get("within_days"))
    rows = Interaction.objects.filter(window, customer_id=OuterRef("customer_id"), **node["event"])
    total = rows.order_by().values("customer_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(total), 0)


def totals(node: dict, ctx: _Context) -> tuple[Callable[[], Q], Callable[[str, int], Q]]:
    """``(exists_one, grouped)`` for the compiler's count comparison, from the facet's rows."""
    facet = recency_facet(node["event"])
    start = event_start(ctx.as_of, node.get("within_days"))

    def at_least(m: int) -> Q:
        kept = Q(**{f"last_{m}__isnull": False}) if start is None else Q(**{f"last_{m}__gt": start})
        # The kept times are exact for a row whose latest is not after
        # as_of; a row with a later one is counted (normally none).
        exact = (Q(last_1__lte=ctx.as_of) & kept) | (
            Q(last_1__gt=ctx.as_of) & _q(GreaterThanOrEqual(_counted(node, ctx, start), m))
        )
        rows = InteractionRecency.objects.filter(exact, customer_id=OuterRef("pk"), facet=facet)
        rows = ctx.restrict(rows)
        # A correlated EXISTS, so that PostgreSQL chooses a semi-join (or an
        # anti-join under NOT) over the facet's rows, or one probe of the
        # (facet, customer) key per candidate when others narrowed them.
        return _q(Exists(rows))

    def grouped(op: str, k: int) -> Q:
        if op == "gte":
            return at_least(k)
        return at_least(k) & ~at_least(k + 1)  # eq

    return (lambda: at_least(1)), grouped
