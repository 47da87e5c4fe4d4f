"""Rules in plain English and version diffs (segmentation/presentation.py)."""

from __future__ import annotations

from copy import deepcopy
from types import SimpleNamespace

from segmentation.presentation import describe_rule, version_diff
from segmentation.rules.examples import EXAMPLE_ENTRY_RULE

LABELS = {"specialty": "specialty", "decile": "decile", "state": "state"}


def test_spec_example_reads_as_one_sentence():
    rule = deepcopy(EXAMPLE_ENTRY_RULE)
    assert describe_rule(rule, LABELS) == (
        "specialty is cardiology or endocrinology, and decile is at least 7, and "
        "(either had at least 1 interaction with channel webinar and kind attended in the "
        "last 90 days, or had at least 2 interactions with channel rep visit in the last "
        "30 days), and not (state is CA)"
    )


def test_never_did_it_reads_as_no_interactions():
    rule = {"event": {}, "within_days": 180, "count": {"op": "eq", "value": 0}}
    assert describe_rule(rule, LABELS) == "had no interactions in the last 180 days"


def test_empty_groups_read_as_everyone_and_nobody():
    assert describe_rule({"all": []}, LABELS) == "everyone"
    assert describe_rule({"any": []}, LABELS) == "nobody"


def test_rx_and_segment_conditions():
    rx = {
        "rx": {"product": "CARDIOZEN"},
        "metric": "trx",
        "months": 3,
        "sum": {"op": "gt", "value": 5},
    }
    assert describe_rule(rx, LABELS) == (
        "total prescriptions of CARDIOZEN over the last 3 months add up to more than 5"
    )
    assert describe_rule({"segment": "cardio"}, LABELS) == 'is a member of segment "cardio"'


def test_version_diff_marks_changed_lines():
    old = SimpleNamespace(name="A", entry_rule={"field": "decile", "op": "gte", "value": 7})
    new = SimpleNamespace(name="A", entry_rule={"field": "decile", "op": "gte", "value": 8})
    lines = version_diff(old, new)
    assert [line.text for line in lines if line.kind == "del"] == ['-    "value": 7']
    assert [line.text for line in lines if line.kind == "add"] == ['+    "value": 8']


def test_account_conditions_read_as_words_not_json():
    rule = {
        "all": [
            {"field": "account_type", "op": "eq", "value": "payer"},
            {
                "coverage": {"product": "CARDIOZEN"},
                "status": {"op": "in", "value": ["prior_auth", "covered"]},
                "lives": {"op": "gte", "value": 10000},
            },
            {
                "members": {"field": "specialty", "op": "eq", "value": "cardiology"},
                "count": {"op": "gte", "value": 2},
                "share": {"op": "gte", "value": 0.5},
            },
        ]
    }
    assert describe_rule(rule, LABELS) == (
        "account type is payer, and has coverage of CARDIOZEN whose status is prior auth or "
        "covered for at least 10000 covered lives, and has at least 2 affiliated customers and "
        "a share of at least 0.5 of its affiliated customers matching (specialty is cardiology)"
    )
    assert describe_rule({"account_segment": "big"}, LABELS) == (
        'has an affiliated account in account segment "big"'
    )


def test_version_diff_of_an_account_segment_shows_the_rollup():
    segment = SimpleNamespace(unit="account")
    old = SimpleNamespace(name="A", segment=segment, rollup="direct", entry_rule={"all": []})
    new = SimpleNamespace(name="A", segment=segment, rollup="hierarchy", entry_rule={"all": []})
    changed = {(line.kind, line.text.strip()) for line in version_diff(old, new)}
    assert ("del", '-  "rollup": "direct"') in changed
    assert ("add", '+  "rollup": "hierarchy"') in changed
