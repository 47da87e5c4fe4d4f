"""Influence benchmark (run by hand; no database): PageRank and the percentiles of the
``referrals`` import (``customers.influence.influence_scores``) on a synthetic network.

    .venv/bin/python bench/bench_influence.py --customers 100000 --pairs 1000000

The network: ``--customers`` NPIs over 19 specialties; each pair's target is a
hub (1% of customers) with probability 0.6, else uniform; bene_count 11-59.
Prints the time to build the pairs, the scoring time (graph, PageRank,
percentiles) and the peak RSS of the process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from customers.influence import influence_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    npis = np.array([f"{1_000_000_000 + i}" for i in range(args.customers)], dtype=object)
    specialty = {npi: f"s{i % 19}" for i, npi in enumerate(npis)}
    hubs = rng.choice(args.customers, size=max(1, args.customers // 100), replace=False)
    source = rng.integers(0, args.customers, size=args.pairs)
    target = np.where(
        rng.random(args.pairs) < 0.6,
        hubs[rng.integers(0, len(hubs), size=args.pairs)],
        rng.integers(0, args.customers, size=args.pairs),
    )
    bene = rng.integers(11, 60, size=args.pairs)
    pairs = [
        (npis[a], npis[b], int(c)) for a, b, c in zip(source, target, bene, strict=True) if a != b
    ]
    t1 = time.perf_counter()
    scores = influence_scores(pairs, specialty)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{platform.node()} {platform.processor() or platform.machine()}")
    print(
        f"customers {args.customers:,} pairs {len(pairs):,}: build {t1 - t0:.1f} s, "
        f"score {t2 - t1:.1f} s ({len(scores):,} scored), peak RSS {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
