"""Which totals a run of several segments shares (segmentation/rules/shared.py)."""

from __future__ import annotations

from segmentation.rules.shared import SHARED_FROM, SharedAggregates

from .segments_support import AS_OF

HIGH = {"field": "decile", "op": "gte", "value": 8}


def visits(n: int, days: int = 30) -> dict:
    return {
        # Channel and kind: a source the latest interaction times do not answer.
        "event": {"channel": "rep_visit", "kind": "visited"},
        "within_days": days,
        "count": {"op": "gte", "value": n},
    }


def test_a_source_many_rules_read_is_one_table_with_a_column_per_window():
    rules = [visits(2, 30), {"not": visits(1, 60)}, {"any": [visits(3, 30), HIGH]}]
    rules += [{"all": [HIGH, visits(1, 90)]}, None, visits(5, 60)]
    shared = SharedAggregates.plan(rules, as_of=AS_OF)
    assert len(shared) == 1
    (source,) = shared.sources.values()
    assert len(source.windows) == 3  # 30, 60 and 90 days, read in one pass


def test_a_source_read_by_fewer_conditions_is_not_shared():
    rules = [visits(n) for n in range(1, SHARED_FROM)]
    rules.append({"rx": {}, "metric": "trx", "sum": {"op": "gte", "value": 5}})
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0


def test_an_event_count_the_latest_interaction_times_answer_is_not_shared():
    one_channel = {"event": {"channel": "rep_visit"}, "within_days": 30}
    rules = [{**one_channel, "count": {"op": "gte", "value": n}} for n in range(1, 6)]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 0


def test_an_event_count_beyond_the_kept_latest_times_is_shared():
    many = {"event": {"channel": "rep_visit"}, "within_days": 30}
    rules = [{**many, "count": {"op": "gte", "value": 6}} for _ in range(SHARED_FROM)]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 1
