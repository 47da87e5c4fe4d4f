"""Event counts answered from each customer's latest interaction times.

``customers.InteractionRecency`` keeps, per customer and facet (every
interaction, one channel, one topic), the ``RECENT_KEPT`` latest
``occurred_at`` values, kept exact by database triggers. For a customer none
of whose interactions is after ``as_of``, "at least m such interactions in
``(start, as_of]``" is ``last_m > start`` (``last_m IS NOT NULL`` without a
window), for any m up to ``RECENT_KEPT``: one row per customer instead of
every interaction in the window, and no grouping (docs/rules.md, "Latest
interactions").

A customer with an interaction after ``as_of`` (a backdated recompute, or
future-dated data) is answered from the interactions themselves: such
customers are found through the ``occurred_at`` index, normally none. The
result is the same set as counting, for every ``as_of``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Q

from customers.models import RECENT_KEPT, Interaction, InteractionRecency, recency_facet

from .fields import _int_bound
from .windows import event_start

if TYPE_CHECKING:
    from .compile import _Context

# The counted "count >= m" (m >= 1) for the customers it is asked about.
AtLeast = Callable[[int], Q]


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


def later_customers(ctx: _Context) -> Q:
    """Customers with an interaction after ``as_of``: counted from their interactions."""
    later = ctx.restrict(Interaction.objects.filter(occurred_at__gt=ctx.as_of))
    return Q(pk__in=later.order_by().values("customer_id"))


def totals(
    node: dict, ctx: _Context, raw_at_least: AtLeast
) -> tuple[Callable[[], Q], Callable[[str, int], Q]]:
    """``(exists_one, grouped)`` for the compiler's count comparison, from the facet's rows.

    ``raw_at_least(m)`` counts the interactions; it is evaluated only for
    :func:`later_customers`.
    """
    facet = recency_facet(node["event"])
    start = event_start(ctx.as_of, node.get("within_days"))
    later = later_customers(ctx)

    def at_least(m: int) -> Q:
        rows = InteractionRecency.objects.filter(facet=facet, last_1__lte=ctx.as_of)
        if start is None:
            rows = rows.filter(**{f"last_{m}__isnull": False})
        else:
            rows = rows.filter(**{f"last_{m}__gt": start})
        rows = ctx.restrict(rows)
        if ctx.narrow is not None:
            rows = rows.filter(customer_id__in=ctx.narrow.values("pk"))
        # The recency rows are exact for customers with nothing after as_of;
        # the others (normally none) are counted. A customer in both parts
        # gets the same answer from each.
        return Q(pk__in=rows.order_by().values("customer_id")) | (later & raw_at_least(m))

    def grouped(op: str, k: int) -> Q:
        if op == "gte":
            return at_least(k)
        return at_least(k) & ~at_least(k + 1)  # eq

    return (lambda: at_least(1)), grouped
