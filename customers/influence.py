"""Influence in a referral network (docs/rules.md, "Influence"): pure computation.

Data in, scores out; no database. The graph is the period's directed pairs
``npi_1 -> npi_2`` between customers (pairs naming a non-customer count in no
field). For every customer in it:

* ``referrals_in``: distinct customers with a pair towards it;
* ``referrals_out``: distinct customers it has a pair towards;
* ``pagerank``: networkx ``pagerank(G, alpha=0.85, weight="bene_count", tol=1e-10)``
  (iterating past networkx's default 100 when it has not converged by then);
* ``pagerank_pct``: ``floor(100 * r / n)``, r the 0-based rank by PageRank
  ascending (ties by NPI ascending), n the customers in the network;
* ``pagerank_pct_in_specialty``: the same rank among the customers of its
  specialty (None without a specialty).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

MAX_ITER = 10_000


@dataclass(frozen=True)
class Score:
    referrals_in: int
    referrals_out: int
    pagerank: float
    pagerank_pct: int
    pagerank_pct_in_specialty: int | None


def percentiles(values: Mapping[str, float]) -> dict[str, int]:
    """``floor(100 * r / n)`` per key, r its 0-based rank by value ascending, ties by key."""
    ordered = sorted(values, key=lambda k: (values[k], k))
    n = len(ordered)
    return {k: (100 * r) // n for r, k in enumerate(ordered)}


def influence_scores(
    pairs: Iterable[tuple[str, str, int]], specialty: Mapping[str, str | None]
) -> dict[str, Score]:
    """Scores of every customer in a pair with another customer.

    ``pairs``: ``(npi_1, npi_2, bene_count)``; ``specialty``: every customer's
    NPI -> specialty (an NPI not in it is not a customer).
    """
    graph = nx.DiGraph()
    for a, b, bene_count in pairs:
        if a in specialty and b in specialty:
            graph.add_edge(a, b, bene_count=bene_count)
    if graph.number_of_nodes() == 0:
        return {}
    # max_iter only lets small networks converge (tol=1e-10 is tight: about 130
    # iterations for a handful of customers); where networkx's default of 100
    # converges, the iterations and the result are the same.
    rank = nx.pagerank(graph, alpha=0.85, weight="bene_count", tol=1e-10, max_iter=MAX_ITER)
    overall = percentiles(rank)
    by_specialty: dict[str, dict[str, float]] = defaultdict(dict)
    for npi, value in rank.items():
        if specialty[npi]:
            by_specialty[specialty[npi]][npi] = value
    within: dict[str, int] = {}
    for group in by_specialty.values():
        within.update(percentiles(group))
    return {
        npi: Score(
            referrals_in=len(set(graph.predecessors(npi))),
            referrals_out=len(set(graph.successors(npi))),
            pagerank=rank[npi],
            pagerank_pct=overall[npi],
            pagerank_pct_in_specialty=within.get(npi),
        )
        for npi in graph.nodes
    }
