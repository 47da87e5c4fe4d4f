"""Aggregates shared by the segments of one full recompute.

docs/architecture.md, "How a customer change becomes a membership change".

A brand team's segments read the same few event counts with different
thresholds and windows: "2 rep visits in 30 days" and "4 rep visits in 60
days", "3 opened emails in 60 days" and "4 in 120 days". A run over many
segments computes each such *source* (an event filter) once, as one temporary
table holding, per customer with rows, one count per distinct window the
run's rules ask for (``COUNT(*) FILTER (WHERE occurred_at > start)``), read in
one pass over the source's rows. Every segment is then evaluated against
those tables: a condition is ``id IN (SELECT customer_id FROM table WHERE
column >= k)``, a semi-join against a table of at most one row per customer.

Exactness: the windows are computed by the same helper as the compiler's
(``event_start``), so a column holds exactly the count the compiler's
subquery would aggregate, and a customer absent from the table has 0, as in
the compiler. Only sources read by at least ``SHARED_FROM``
conditions of the run are shared; the others compile as usual, where
narrowing by a segment's cheap conditions keeps them small.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.db.models.expressions import RawSQL

from core.time import as_utc
from customers.models import Interaction

from . import recency
from .windows import event_start

_names = itertools.count(1)

# A source is shared when at least this many conditions of the run read it.
# Below that, each condition's own subquery (narrowed by its segment's cheap
# conditions, or read for the entering and current members only in an exit
# rule) costs less than one population-wide table: at 1M customers the bench's
# 20 segments, which read no source more than four times, took 1.5x their
# hand-written floor with every source read twice shared and 1.0x without;
# the 200 segments, which read most sources 6 to 40 times, took 1.0x with
# sharing and 1.2x when narrowed and exit conditions kept their own
# subqueries (bench/README.md, "200 segments").
SHARED_FROM = 5


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
    """One event filter."""

    keys: tuple  # sorted (key, value) pairs
    uses: int = 0
    windows: dict = field(default_factory=dict)  # window -> column name
    table: str | None = None


def _event_key(node: dict) -> tuple:
    return tuple(sorted(node["event"].items()))


def _conditions(rule: dict | None) -> Iterator[dict]:
    if rule is None:
        return
    for group in ("all", "any"):
        if group in rule:
            for child in rule[group]:
                yield from _conditions(child)
            return
    if "not" in rule:
        yield from _conditions(rule["not"])
    elif "event" in rule and not recency.answers(rule):
        # Event counts the latest interaction times answer are not shared,
        # nor rx sums (RxYear): reading them is cheaper than any shared pass.
        yield rule


class SharedAggregates:
    """The event counts a set of rules needs, each source computed once.

    ``plan(rules, as_of)`` finds the sources; ``materialise()`` writes their
    temporary tables (in the caller's transaction); the compiler asks
    ``event_column`` for a condition's column (None: not
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
            for node in _conditions(rule):
                source = shared._source(_event_key(node))
                source.windows.setdefault(event_start(as_of, node.get("within_days")), None)
                source.uses += 1
        shared.sources = {k: s for k, s in shared.sources.items() if s.uses >= SHARED_FROM}
        return shared

    def _source(self, key: tuple) -> _Source:
        if key not in self.sources:
            self.sources[key] = _Source(keys=key)
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
        rows = Interaction.objects.filter(occurred_at__lte=self.as_of, **dict(source.keys))
        starts = list(source.windows)
        if None not in starts:
            rows = rows.filter(occurred_at__gt=min(starts))
        return rows

    @staticmethod
    def _total(source: _Source, start):
        if start is None:
            return Count("pk")
        return Count("pk", filter=Q(occurred_at__gt=start))

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
