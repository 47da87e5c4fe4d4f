"""Aggregates shared by the segments of one full recompute.

docs/architecture.md, "How a customer change becomes a membership change".

A brand team's segments read the same few event counts and rx sums with
different thresholds and windows: "2 rep visits in 30 days" and "4 rep
visits in 60 days", "a webinar in 90 days" and "a webinar in 180 days". A
run over many segments computes each such *source* (an event filter, or one
product's rx, or all products' rx) once, as one temporary table holding, per
customer with rows, one total per distinct window the run's rules ask for
(``COUNT(*) FILTER (WHERE occurred_at > start)``, ``SUM(trx) FILTER (WHERE
month >= first)``), read in one pass over the source's rows. Every segment is
then evaluated against those tables: a condition is ``id IN (SELECT
customer_id FROM table WHERE column >= k)``, a semi-join against a table of
at most one row per customer.

Exactness: the windows are computed by the same helpers as the compiler's
(``event_start``, ``rx_window``), so a column holds exactly the count or sum
the compiler's subquery would aggregate, and a customer absent from the table
has 0, as in the compiler. A source is shared when at least ``SHARED_FROM``
entry-rule conditions of the run read it over the whole population. Conditions
under an ``all`` that the compiler narrows by cheap conditions (``narrows``),
and exit rules (evaluated for the entering and current members only), read
few customers' rows and compile as usual.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from core.time import as_utc
from customers.models import Interaction, RxFact, RxMonthlyTotal

from .catalog import get_field
from .windows import event_start, rx_window

_names = itertools.count(1)

# A source is shared when at least this many conditions of the run read it
# over the whole population (entry rules, outside a narrowed ``all``). The
# 20 segments of the bench have at most one such condition per source and
# run as before; the 200 read each shared source 2 to 20 times
# (bench/README.md, "200 segments").
SHARED_FROM = 2


@dataclass(frozen=True)
class SharedColumn:
    """One window's per-customer total in a shared table."""

    table: str
    column: str

    def compare(self, op: str, k: int) -> Q:
        """Customers whose total satisfies ``total op k`` (op ``gte`` or ``eq``, k >= 1).

        Customers without a row have total 0, which no such comparison holds for.
        """
        sign = {"gte": ">=", "eq": "="}[op]
        qn = connection.ops.quote_name
        return Q(
            pk__in=RawSQL(
                f"SELECT customer_id FROM {qn(self.table)} WHERE {qn(self.column)} {sign} %s",
                (k,),
            )
        )


@dataclass
class _Source:
    """One event filter or one product's rx (``product`` None: every product)."""

    kind: str  # "event" or "rx"
    keys: tuple  # event: sorted (key, value) pairs; rx: (product,)
    uses: int = 0  # population-wide conditions reading it
    windows: dict = field(default_factory=dict)  # window -> column name
    table: str | None = None


def _event_key(node: dict) -> tuple:
    return ("event", tuple(sorted(node["event"].items())))


def _rx_key(node: dict) -> tuple:
    return ("rx", (node["rx"].get("product"),))


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


def narrows(node: dict) -> bool:
    """True for a child of ``all`` cheap to test per customer and worth narrowing by:
    conditions on the customer's own columns, and membership of a segment (one
    index lookup; a reference is usually far smaller than the population).

    The compiler evaluates an ``all``'s other children only for the customers
    passing these (``compile._all``); a run's shared totals are planned for
    the conditions outside such narrowing only.
    """
    return _customer_only(node) or "segment" in node


def _population_wide(rule: dict | None) -> Iterator[dict]:
    """The event and rx conditions of ``rule`` that the compiler evaluates for everyone.

    Those under an ``all`` with a narrowing sibling (``narrows``) are read for
    the few customers passing it, cheaper than any table over the whole
    population; they compile as usual.
    """
    if rule is None:
        return
    if "all" in rule:
        children = rule["all"]
        if any(narrows(c) for c in children) and not all(narrows(c) for c in children):
            return
        for child in children:
            yield from _population_wide(child)
    elif "any" in rule:
        for child in rule["any"]:
            yield from _population_wide(child)
    elif "not" in rule:
        yield from _population_wide(rule["not"])
    elif "event" in rule or "rx" in rule:
        yield rule


class SharedAggregates:
    """The event counts and rx sums a set of rules needs, each source computed once.

    ``plan(rules, as_of)`` finds the sources; ``materialise()`` writes their
    temporary tables (in the caller's transaction); the compiler asks
    ``event_column`` / ``rx_column`` for a condition's column (None: not
    shared, compile as usual); ``drop()`` removes the tables.
    """

    def __init__(self, as_of: dt.datetime):
        self.as_of = as_utc(as_of)  # as the compiler takes it
        self.sources: dict[tuple, _Source] = {}

    @classmethod
    def plan(cls, rules: Iterable[dict | None], *, as_of: dt.datetime) -> SharedAggregates:
        shared = cls(as_of)
        as_of = shared.as_of
        for rule in rules:
            for node in _population_wide(rule):
                if "event" in node:
                    source = shared._source(_event_key(node))
                    source.windows.setdefault(event_start(as_of, node.get("within_days")), None)
                else:
                    source = shared._source(_rx_key(node))
                    first, _ = rx_window(as_of, node.get("months"))
                    source.windows.setdefault((node["metric"], first), None)
                source.uses += 1
        shared.sources = {k: s for k, s in shared.sources.items() if s.uses >= SHARED_FROM}
        return shared

    def _source(self, key: tuple) -> _Source:
        if key not in self.sources:
            self.sources[key] = _Source(kind=key[0], keys=key[1])
        return self.sources[key]

    def __len__(self) -> int:
        return len(self.sources)

    # -- the tables ---------------------------------------------------------------

    def materialise(self) -> None:
        """Write one temporary table per shared source: customer_id and one total per window."""
        for source in self.sources.values():
            source.table = f"segmentation_shared_{next(_names)}"
            columns = {}
            for i, window in enumerate(source.windows):
                source.windows[window] = f"w{i}"
                columns[f"w{i}"] = self._total(source, window)
            rows = self._rows(source).order_by().values("customer_id").annotate(**columns)
            sql, params = rows.query.sql_with_params()
            table = connection.ops.quote_name(source.table)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql}", params)
                if connection.vendor == "postgresql":
                    # Temporary tables are never analysed by autovacuum; the
                    # planner needs their size to choose a hash semi-join.
                    cursor.execute(f"ANALYZE {table}")

    def _rows(self, source: _Source):
        if source.kind == "event":
            rows = Interaction.objects.filter(occurred_at__lte=self.as_of, **dict(source.keys))
            starts = list(source.windows)
            if None not in starts:
                rows = rows.filter(occurred_at__gt=min(starts))
            return rows
        (product,) = source.keys
        _, end = rx_window(self.as_of, None)
        if product is not None:
            rows = RxFact.objects.filter(month__lt=end, product=product)
        else:
            # Every product: the trigger-kept monthly totals (RxMonthlyTotal),
            # as the compiler reads them; a fifth of the facts' rows.
            rows = RxMonthlyTotal.objects.filter(month__lt=end)
        firsts = [first for _, first in source.windows]
        if None not in firsts:
            rows = rows.filter(month__gte=min(firsts))
        return rows

    @staticmethod
    def _total(source: _Source, window):
        if source.kind == "event":
            start = window
            if start is None:
                return Count("pk")
            return Count("pk", filter=Q(occurred_at__gt=start))
        metric, first = window
        total = Sum(metric) if first is None else Sum(metric, filter=Q(month__gte=first))
        return Coalesce(total, 0)

    def drop(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for source in self.sources.values():
                if source.table:
                    cursor.execute(f"DROP TABLE IF EXISTS {qn(source.table)}")
                    source.table = None

    # -- lookups for the compiler -------------------------------------------------------

    def event_column(self, node: dict) -> SharedColumn | None:
        source = self.sources.get(_event_key(node))
        if source is None or source.table is None:
            return None
        column = source.windows.get(event_start(self.as_of, node.get("within_days")))
        return SharedColumn(source.table, column) if column else None

    def rx_column(self, node: dict) -> SharedColumn | None:
        source = self.sources.get(_rx_key(node))
        if source is None or source.table is None:
            return None
        first, _ = rx_window(self.as_of, node.get("months"))
        column = source.windows.get((node["metric"], first))
        return SharedColumn(source.table, column) if column else None
