"""Which totals a run of several segments shares (segmentation/rules/shared.py)."""

from __future__ import annotations

from segmentation.rules.shared import SharedAggregates

from .segments_support import AS_OF

HIGH = {"field": "decile", "op": "gte", "value": 8}


def visits(n: int, days: int = 30) -> dict:
    return {
        "event": {"channel": "rep_visit"},
        "within_days": days,
        "count": {"op": "gte", "value": n},
    }


def test_a_source_two_rules_read_is_one_table_with_a_column_per_window():
    rules = [visits(2, 30), {"not": visits(1, 60)}, {"any": [visits(3, 30), HIGH]}]
    shared = SharedAggregates.plan(rules, as_of=AS_OF)
    assert len(shared) == 1
    (source,) = shared.sources.values()
    assert len(source.windows) == 2  # 30 and 60 days, read in one pass


def test_a_source_read_once_is_not_shared():
    rules = [visits(3), None, {"rx": {}, "metric": "trx", "sum": {"op": "gte", "value": 5}}]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0


def test_conditions_the_compiler_narrows_do_not_count():
    """Under an ``all`` with a condition on the customer's own columns, a count is
    read for the few customers passing it, not from a population-wide table."""
    rules = [visits(2), {"all": [HIGH, visits(3)]}, {"all": [{"segment": "x"}, visits(4)]}]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0
