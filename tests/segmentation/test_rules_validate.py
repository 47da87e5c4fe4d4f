"""validate_rule: the grammar of docs/rules.md, every error at its JSON path."""

from __future__ import annotations

from copy import deepcopy

import pytest

from core.errors import ValidationFailed
from segmentation.rules import referenced_segments, validate_rule
from segmentation.rules.examples import EXAMPLE_ENTRY_RULE

KNOWN_SEGMENTS = {"hcp-core", "webinar_fans"}


def errors_of(rule, path="entry_rule"):
    """{path: message} of every error validate_rule reports (empty when valid)."""
    try:
        validate_rule(rule, path=path, segment_exists=KNOWN_SEGMENTS.__contains__)
    except ValidationFailed as exc:
        return {e.path: e.message for e in exc.errors}
    return {}


def only_error(rule, path="entry_rule"):
    errors = errors_of(rule, path)
    assert len(errors) == 1, errors
    return next(iter(errors.items()))


SPEC_EXAMPLE = deepcopy(EXAMPLE_ENTRY_RULE)


@pytest.mark.parametrize(
    "rule",
    [
        SPEC_EXAMPLE,
        {"event": {}, "within_days": 180, "count": {"op": "eq", "value": 0}},
        {"all": []},
        {"any": []},
        {"not": {"not": {"segment": "hcp-core"}}},
        {"field": "attr.adoption_stage", "op": "eq", "value": "early"},
        {"field": "attr.score", "op": "between", "value": [1, 2.5]},
        {"field": "attr.score", "op": "gt", "value": "b"},
        {"field": "attr.never.seen-key", "op": "is_set"},
        {"field": "account.bed_count", "op": "lt", "value": 100},
        {"field": "account.account_type", "op": "not_in", "value": ["payer", "gpo"]},
        {"field": "credential", "op": "eq", "value": "PharmD"},
        {"field": "email_opt_out", "op": "eq", "value": False},
        {"field": "decile", "op": "eq", "value": 7.5},
        {"field": "state", "op": "is_not_set", "value": None},
        {"field": "specialty", "op": "contains", "value": "CARDIO"},
        {"rx": {}, "metric": "trx", "sum": {"op": "gt", "value": 2.5}},
        {
            "rx": {"product": "CARDIOZEN"},
            "metric": "nrx",
            "months": 3,
            "sum": {"op": "eq", "value": 0},
        },
        {"event": {"asset": "ASSET-1", "topic": "safety"}},
    ],
)
def test_valid_rules_pass(rule):
    assert errors_of(rule) == {}


def test_unknown_operator_names_its_path_and_the_expected_ones():
    rule = {"all": [{}, {}, {"any": [{"field": "state", "op": "equals", "value": "CA"}]}]}
    errors = errors_of(rule)
    path = "entry_rule.all[2].any[0].op"
    assert errors[path].startswith("unknown operator 'equals' (expected one of eq, ne, in,")


def test_path_prefix_is_the_callers():
    path, _ = only_error({"field": "nope", "op": "eq", "value": 1}, path="exit_rule")
    assert path == "exit_rule.field"


def test_all_errors_are_reported_not_just_the_first():
    rule = {
        "all": [
            {"field": "nope", "op": "eq", "value": "x"},
            {"field": "state", "op": "equals", "value": "CA"},
            {"segment": "missing"},
        ]
    }
    assert set(errors_of(rule)) == {
        "entry_rule.all[0].field",
        "entry_rule.all[1].op",
        "entry_rule.all[2].segment",
    }


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        (None, "entry_rule"),
        ([], "entry_rule"),
        ("all", "entry_rule"),
        ({}, "entry_rule"),
        ({"all": [], "any": []}, "entry_rule"),
        ({"all": {}}, "entry_rule.all"),
        ({"any": "x"}, "entry_rule.any"),
        ({"not": []}, "entry_rule.not"),
        ({"all": [1]}, "entry_rule.all[0]"),
        ({"all": [], "extra": 1}, "entry_rule.extra"),
        ({"field": "state", "op": "eq", "value": "CA", "negate": True}, "entry_rule.negate"),
    ],
)
def test_malformed_nodes(rule, path):
    assert path in errors_of(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"field": "nope", "op": "eq", "value": "x"}, "entry_rule.field"),
        ({"field": "account.nope", "op": "eq", "value": "x"}, "entry_rule.field"),
        ({"field": "attr.", "op": "is_set"}, "entry_rule.field"),
        ({"field": "attr.bad key", "op": "is_set"}, "entry_rule.field"),
        ({"field": "attr." + "k" * 101, "op": "is_set"}, "entry_rule.field"),
        ({"field": 3, "op": "eq", "value": "x"}, "entry_rule.field"),
        ({"field": "state", "value": "CA"}, "entry_rule.op"),
        ({"field": "state", "op": "EQ", "value": "CA"}, "entry_rule.op"),
        ({"field": "state", "op": "eq"}, "entry_rule.value"),
    ],
)
def test_field_paths_and_operators(rule, path):
    assert path in errors_of(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        # ordering operators: numeric and date fields and attr. only
        ({"field": "state", "op": "gt", "value": "CA"}, "entry_rule.op"),
        ({"field": "email_opt_out", "op": "lte", "value": True}, "entry_rule.op"),
        ({"field": "specialty", "op": "between", "value": ["a", "b"]}, "entry_rule.op"),
        # contains: string fields only
        ({"field": "decile", "op": "contains", "value": "1"}, "entry_rule.op"),
        ({"field": "account.bed_count", "op": "contains", "value": "1"}, "entry_rule.op"),
        ({"field": "email_opt_out", "op": "contains", "value": "t"}, "entry_rule.op"),
    ],
)
def test_operator_not_applicable_to_the_field_type(rule, path):
    assert path in errors_of(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"field": "specialty", "op": "eq", "value": "Cardiology"}, "entry_rule.value"),
        ({"field": "specialty", "op": "eq", "value": "cardiolgy"}, "entry_rule.value"),
        ({"field": "credential", "op": "eq", "value": "md"}, "entry_rule.value"),
        ({"field": "role", "op": "ne", "value": ""}, "entry_rule.value"),
        (
            {"field": "practice_setting", "op": "in", "value": ["hospital", "clinic"]},
            "entry_rule.value[1]",
        ),  # noqa: E501
        (
            {"field": "account.account_type", "op": "not_in", "value": ["Payer"]},
            "entry_rule.value[0]",
        ),  # noqa: E501
        ({"field": "account.formulary_status", "op": "eq", "value": "tier1"}, "entry_rule.value"),
    ],
)
def test_vocabulary_values_must_be_spelled_as_data_md_lists_them(rule, path):
    assert path in errors_of(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"field": "state", "op": "eq", "value": 5}, "entry_rule.value"),
        ({"field": "state", "op": "eq", "value": None}, "entry_rule.value"),
        ({"field": "state", "op": "eq", "value": ["CA"]}, "entry_rule.value"),
        ({"field": "decile", "op": "eq", "value": "7"}, "entry_rule.value"),
        ({"field": "decile", "op": "gte", "value": True}, "entry_rule.value"),
        ({"field": "decile", "op": "in", "value": [1, False]}, "entry_rule.value[1]"),
        ({"field": "email_opt_out", "op": "eq", "value": 1}, "entry_rule.value"),
        ({"field": "email_opt_out", "op": "eq", "value": "true"}, "entry_rule.value"),
        ({"field": "state", "op": "in", "value": []}, "entry_rule.value"),
        ({"field": "state", "op": "in", "value": "CA"}, "entry_rule.value"),
        ({"field": "state", "op": "not_in", "value": ["CA", 1]}, "entry_rule.value[1]"),
        ({"field": "decile", "op": "between", "value": [1]}, "entry_rule.value"),
        ({"field": "decile", "op": "between", "value": [1, 2, 3]}, "entry_rule.value"),
        ({"field": "decile", "op": "between", "value": {"lo": 1}}, "entry_rule.value"),
        ({"field": "decile", "op": "between", "value": [1, "9"]}, "entry_rule.value[1]"),
        ({"field": "state", "op": "contains", "value": 1}, "entry_rule.value"),
        ({"field": "state", "op": "is_set", "value": "CA"}, "entry_rule.value"),
        ({"field": "state", "op": "is_not_set", "value": False}, "entry_rule.value"),
        ({"field": "attr.x", "op": "eq", "value": True}, "entry_rule.value"),
        ({"field": "attr.x", "op": "eq", "value": None}, "entry_rule.value"),
        ({"field": "attr.x", "op": "in", "value": [1, "a"]}, "entry_rule.value"),
        ({"field": "attr.x", "op": "between", "value": [1, "9"]}, "entry_rule.value"),
        ({"field": "attr.x", "op": "gt", "value": [1]}, "entry_rule.value"),
        ({"field": "decile", "op": "eq", "value": float("nan")}, "entry_rule.value"),
        ({"field": "decile", "op": "eq", "value": float("inf")}, "entry_rule.value"),
    ],
)
def test_value_shape_and_type_per_operator(rule, path):
    assert path in errors_of(rule)


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"event": []}, "entry_rule.event"),
        ({"event": {"chanel": "email"}}, "entry_rule.event.chanel"),
        ({"event": {"channel": "fax"}}, "entry_rule.event.channel"),
        ({"event": {"kind": "Opened"}}, "entry_rule.event.kind"),
        ({"event": {"topic": ""}}, "entry_rule.event.topic"),
        ({"event": {"asset": ""}}, "entry_rule.event.asset"),
        ({"event": {"asset": 7}}, "entry_rule.event.asset"),
        ({"event": {}, "within_days": 0}, "entry_rule.within_days"),
        ({"event": {}, "within_days": 1.5}, "entry_rule.within_days"),
        ({"event": {}, "within_days": 30.0}, "entry_rule.within_days"),
        ({"event": {}, "within_days": "30"}, "entry_rule.within_days"),
        ({"event": {}, "within_days": True}, "entry_rule.within_days"),
        ({"event": {}, "within_days": None}, "entry_rule.within_days"),
        ({"event": {}, "count": 2}, "entry_rule.count"),
        ({"event": {}, "count": {"op": "ge", "value": 2}}, "entry_rule.count.op"),
        ({"event": {}, "count": {"value": 2}}, "entry_rule.count.op"),
        ({"event": {}, "count": {"op": "gte"}}, "entry_rule.count.value"),
        ({"event": {}, "count": {"op": "gte", "value": -1}}, "entry_rule.count.value"),
        ({"event": {}, "count": {"op": "gte", "value": 1.5}}, "entry_rule.count.value"),
        ({"event": {}, "count": {"op": "gte", "value": True}}, "entry_rule.count.value"),
        ({"event": {}, "count": {"op": "gte", "value": 1, "x": 1}}, "entry_rule.count.x"),
        ({"event": {}, "days": 3}, "entry_rule.days"),
    ],
)
def test_event_conditions(rule, path):
    assert path in errors_of(rule)


RX_OK = {"rx": {}, "metric": "nrx", "sum": {"op": "gte", "value": 1}}


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"rx": []}, "entry_rule.rx"),
        ({"rx": {"product": ""}}, "entry_rule.rx.product"),
        ({"rx": {"product": 5}}, "entry_rule.rx.product"),
        ({"rx": {"brand": "X"}}, "entry_rule.rx.brand"),
        ({"metric": "NRX"}, "entry_rule.metric"),
        ({"metric": None}, "entry_rule.metric"),
        ({"months": 0}, "entry_rule.months"),
        ({"months": 2.0}, "entry_rule.months"),
        ({"months": False}, "entry_rule.months"),
        ({"sum": {"op": "gte", "value": "1"}}, "entry_rule.sum.value"),
        ({"sum": {"op": "gte", "value": True}}, "entry_rule.sum.value"),
        ({"sum": {"op": "between", "value": 1}}, "entry_rule.sum.op"),
        ({"sum": 3}, "entry_rule.sum"),
        ({"window": 3}, "entry_rule.window"),
    ],
)
def test_rx_conditions(changes, path):
    assert path in errors_of({**RX_OK, **changes})


@pytest.mark.parametrize("missing", ["metric", "sum"])
def test_rx_requires_metric_and_sum(missing):
    rule = {k: v for k, v in RX_OK.items() if k != missing}
    assert f"entry_rule.{missing}" in errors_of(rule)


def test_rx_sum_accepts_any_number():
    assert errors_of({**RX_OK, "sum": {"op": "lt", "value": 2.5}}) == {}


@pytest.mark.parametrize("key", ["Upper", "-lead", "", "a b", "x" * 65, 7])
def test_segment_key_must_match_the_pattern(key):
    path, _ = only_error({"segment": key})
    assert path == "entry_rule.segment"


def test_unknown_segment_is_an_error():
    path, message = only_error({"segment": "no-such-segment"})
    assert path == "entry_rule.segment"
    assert "no-such-segment" in message


def nested_nots(groups: int) -> dict:
    rule: dict = {"field": "state", "op": "eq", "value": "CA"}
    for _ in range(groups):
        rule = {"not": rule}
    return rule


def test_depth_32_is_accepted():
    # depth: a condition is 1, each group adds 1 -> 31 groups + a condition = 32
    assert errors_of(nested_nots(31)) == {}


def test_depth_33_is_rejected():
    errors = errors_of(nested_nots(32))
    assert len(errors) == 1
    (message,) = errors.values()
    assert "deeper than 32" in message


def test_very_deep_documents_do_not_blow_the_stack():
    errors = errors_of(nested_nots(5000))
    assert any("deeper than 32" in m for m in errors.values())


def test_500_conditions_are_accepted():
    rule = {"any": [{"field": "decile", "op": "eq", "value": i % 10 + 1} for i in range(500)]}
    assert errors_of(rule) == {}


def test_501_conditions_are_rejected():
    rule = {"any": [{"field": "decile", "op": "eq", "value": 1} for _ in range(501)]}
    path, message = only_error(rule)
    assert path == "entry_rule"
    assert "501" in message


def test_referenced_segments_finds_keys_at_any_depth():
    rule = {
        "all": [
            {"segment": "a"},
            {"any": [{"not": {"segment": "b"}}, {"field": "state", "op": "eq", "value": "CA"}]},
            {"not": {"all": [{"segment": "a"}]}},
        ]
    }
    assert referenced_segments(rule) == {"a", "b"}


def test_referenced_segments_of_a_rule_without_references_is_empty():
    assert referenced_segments(SPEC_EXAMPLE) == set()
