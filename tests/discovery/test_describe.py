"""Describe a list: planted rules recovered, measured by the engine, deterministic."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from segmentation.rules import validate_rule
from tests.factories.discovery import make_population

from .conftest import THREE_CONDITIONS, f1, members_of

pytestmark = pytest.mark.django_db


def _given(members: list[str], share: float) -> list[str]:
    return members[: int(len(members) * share)]


def test_three_condition_rule_is_recovered_from_70_percent_of_its_members(describe):
    make_population(5000)
    members = members_of(THREE_CONDITIONS)
    assert len(members) > 100
    response = describe(npis=_given(members, 0.7))
    assert response.status_code == 200, response.json()
    recovered = set(members_of(response.json()["entry_rule"]))
    assert f1(recovered, set(members)) >= 0.95


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "specialty", "op": "eq", "value": "oncology"},
        {
            "all": [
                {"field": "decile", "op": "gte", "value": 8},
                {"field": "state", "op": "in", "value": ["CA", "NY"]},
            ]
        },
        {
            "all": [
                {
                    "rx": {"product": "CARDIOZEN"},
                    "metric": "trx",
                    "months": 6,
                    "sum": {"op": "gte", "value": 20},
                },
                {"field": "account.account_type", "op": "eq", "value": "hospital"},
            ]
        },
    ],
    ids=["one-field", "decile-and-state", "rx-and-account"],
)
def test_one_and_two_condition_rules_are_recovered(population, describe, rule):
    members = members_of(rule)
    response = describe(npis=_given(members, 0.7))
    recovered = set(members_of(response.json()["entry_rule"]))
    assert f1(recovered, set(members)) >= 0.95


def test_selected_and_metrics_are_the_engine_evaluation_of_the_returned_rule(population, describe):
    members = members_of(THREE_CONDITIONS)
    given = set(_given(members, 0.7))
    body = describe(npis=sorted(given)).json()
    selected = set(members_of(body["entry_rule"]))
    hits = len(selected & given)
    assert body["selected"] == len(selected)
    assert body["metrics"]["precision"] == round(hits / len(selected), 4)
    assert body["metrics"]["recall"] == round(hits / len(given), 4)


def test_the_rule_is_any_of_all_paths_within_max_conditions_and_valid(population, describe):
    members = members_of(THREE_CONDITIONS)
    body = describe(npis=_given(members, 0.7), max_conditions=2).json()
    rule = body["entry_rule"]
    validate_rule(rule, path="entry_rule", segment_exists=lambda key: False)
    assert set(rule) == {"any"}
    assert all(set(path) == {"all"} for path in rule["any"])
    assert sum(len(path["all"]) for path in rule["any"]) <= 2


def test_vocabulary_values_are_grouped_into_one_in_list(population, describe):
    rule = {"field": "specialty", "op": "in", "value": ["cardiology", "neurology", "oncology"]}
    body = describe(npis=members_of(rule)).json()
    assert body["entry_rule"] == {"any": [{"all": [rule]}]}


def test_count_thresholds_are_integers(population, describe):
    members = members_of(THREE_CONDITIONS)
    body = describe(npis=_given(members, 0.7)).json()
    counts = [
        c["count"]["value"]
        for path in body["entry_rule"]["any"]
        for c in path["all"]
        if "count" in c
    ]
    assert counts and all(isinstance(v, int) for v in counts)


def test_same_request_gives_the_same_answer(population, describe):
    members = _given(members_of(THREE_CONDITIONS), 0.7)
    first, second = describe(npis=members).json(), describe(npis=members).json()
    assert first["id"] != second["id"]
    for key in ("entry_rule", "selected", "metrics", "holdout", "features"):
        assert first[key] == second[key]


def test_answer_has_holdout_features_model_and_plain_english(population, describe):
    members = _given(members_of(THREE_CONDITIONS), 0.7)
    body = describe(npis=members).json()
    assert set(body["holdout"]) == {"precision", "recall", "f1"}
    assert body["holdout"]["f1"] > 0.5
    assert body["features"][0]["importance"] >= body["features"][-1]["importance"]
    assert body["model"]["method"] == "decision_tree"
    assert body["model"]["population"] == 1500
    assert body["model"]["positives"] == len(members)
    assert body["model"]["max_conditions"] == 4
    assert "specialty is cardiology or endocrinology" in body["plain_english"]


def test_a_run_is_stored_and_audited(population, describe):
    members = _given(members_of(THREE_CONDITIONS), 0.7)
    body = describe(npis=members).json()
    event = AuditEvent.objects.get(action="discovery_run.created")
    assert event.object_type == "discovery_run"
    assert event.object_id == str(body["id"])


def test_a_large_population_learns_from_a_sample_but_measures_everyone(
    population, describe, monkeypatch
):
    from discovery.services import describe as describe_module

    monkeypatch.setattr(describe_module, "LEARN_ROWS", 600)
    members = members_of({"field": "specialty", "op": "eq", "value": "oncology"})
    body = describe(npis=_given(members, 0.7)).json()
    assert body["model"]["learned_on"] == 600
    assert f1(set(members_of(body["entry_rule"])), set(members)) >= 0.95
    assert body["selected"] == len(members_of(body["entry_rule"]))
