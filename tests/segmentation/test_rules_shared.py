"""Which totals a run of several segments shares (segmentation/rules/shared.py)."""

from __future__ import annotations

import pytest

from segmentation.rules.shared import SharedAggregates

from .segments_support import AS_OF


def visits(op: str, value, days: int = 30) -> dict:
    return {
        "event": {"channel": "rep_visit"},
        "within_days": days,
        "count": {"op": op, "value": value},
    }


@pytest.mark.parametrize(
    "comparisons",
    [
        [("gte", 2), ("gte", 3), ("gte", 4), ("gte", 1)],
        [("eq", 3), ("eq", 1), ("lt", 2), ("eq", 0)],
        [("gt", 1.5), ("lte", 1), ("ne", 2), ("ne", 0)],
    ],
)
def test_a_source_whose_total_three_conditions_compare_is_shared(comparisons):
    rules = [visits(op, value, days=30 * (i + 1)) for i, (op, value) in enumerate(comparisons)]
    shared = SharedAggregates.plan(rules, as_of=AS_OF)
    assert len(shared) == 1
    (source,) = shared.sources.values()
    assert len(source.windows) == 4  # one column per window, one pass


@pytest.mark.parametrize(
    "comparisons",
    [
        [("gte", 1), ("eq", 0)],  # "ever" and "never": one EXISTS each
        [("lt", 1), ("gt", 0), ("lte", 0), ("ne", 0)],
        [("gte", 0.5), ("eq", 0.5)],  # ">= 1", and a constant
    ],
)
def test_a_source_only_tested_for_presence_is_not_shared(comparisons):
    rules = [visits(op, value) for op, value in comparisons]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0


def test_a_total_two_conditions_compare_is_not_shared():
    rules = [visits("gte", 3), None, visits("gte", 2, days=60), visits("gte", 1)]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0
