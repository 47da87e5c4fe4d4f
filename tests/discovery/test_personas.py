"""Personas: sizes add up, each has a rule measured by the engine, a profile and a label."""

from __future__ import annotations

import pytest

from segmentation.rules import validate_rule

from .conftest import members_of

pytestmark = pytest.mark.django_db


def _personas(client, **body):
    response = client.post("/api/v1/discovery/personas/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_sizes_add_up_to_the_population(population, brand_client):
    body = _personas(brand_client, k=3)
    assert body["k"] == 3 and len(body["personas"]) == 3
    assert sum(p["size"] for p in body["personas"]) == len(population)


def test_k_is_chosen_by_silhouette_when_not_given(population, brand_client):
    body = _personas(brand_client)
    assert 2 <= body["k"] <= 8
    assert body["k_chosen_by"] == "silhouette"
    assert body["method"] == "kmeans"
    assert sum(p["size"] for p in body["personas"]) == len(population)


def test_each_persona_has_a_valid_rule_with_its_engine_fidelity(population, brand_client):
    body = _personas(brand_client, k=2, families=["profile"])
    for persona in body["personas"]:
        validate_rule(persona["entry_rule"], path="entry_rule", segment_exists=lambda k: False)
        selected = len(members_of(persona["entry_rule"]))
        assert selected > 0
        assert 0 < persona["fidelity"]["precision"] <= 1
        assert 0 < persona["fidelity"]["recall"] <= 1
        assert persona["plain_english"]


def test_profile_and_label_read_well(population, brand_client):
    body = _personas(brand_client, k=2)
    for persona in body["personas"]:
        assert persona["label"] and persona["label"][0].isupper()
        assert persona["label"] != "HCPs"  # a name for the whole population, not a persona
        assert len(persona["profile"]) == 5
        assert {"feature", "persona_mean", "population_mean"} <= set(persona["profile"][0])
    labels = [p["label"] for p in body["personas"]]
    assert len(set(labels)) == len(labels)


def test_families_limit_the_features(population, brand_client):
    body = _personas(brand_client, k=2, families=["engagement"])
    features = {f["feature"] for p in body["personas"] for f in p["profile"]}
    assert all(f.startswith("event:") for f in features)
    assert body["model"]["families"] == ["engagement"]


def test_same_request_same_personas(population, brand_client):
    first, second = _personas(brand_client, k=3), _personas(brand_client, k=3)
    assert [p["entry_rule"] for p in first["personas"]] == [
        p["entry_rule"] for p in second["personas"]
    ]
    assert [p["size"] for p in first["personas"]] == [p["size"] for p in second["personas"]]


def test_fidelity_is_the_engine_selection_against_the_persona(population, brand_client):
    """precision = hits / selected (the engine's count), recall = hits / size."""
    body = _personas(brand_client, k=3)
    for persona in body["personas"]:
        selected = len(members_of(persona["entry_rule"]))
        hits = round(persona["fidelity"]["recall"] * persona["size"])
        assert persona["fidelity"]["precision"] == pytest.approx(hits / selected, abs=1e-4)


def test_a_large_population_is_sampled_in_blocks_and_sizes_are_scaled(
    population, brand_client, monkeypatch
):
    from discovery.services import personas

    monkeypatch.setattr(personas, "PERSONA_ROWS", len(population) // 2)
    body = _personas(brand_client, k=3)
    assert body["model"]["population"] == len(population)
    assert body["model"]["clustered_on"] < len(population)
    assert sum(p["size"] for p in body["personas"]) == len(population)
    again = _personas(brand_client, k=3)  # the same sample, the same personas
    assert [p["entry_rule"] for p in again["personas"]] == [
        p["entry_rule"] for p in body["personas"]
    ]


def test_scaled_counts_add_up_exactly():
    import numpy as np

    from discovery.services.common import scaled_counts

    out = scaled_counts(np.array([3, 3, 4]), 1001)
    assert out.sum() == 1001 and list(out) == [300, 300, 401]
    assert list(scaled_counts(np.array([2, 5]), 7)) == [2, 5]


def _fields(rule: dict) -> list[str]:
    if "any" in rule or "all" in rule:
        return [f for r in rule.get("any", rule.get("all", [])) for f in _fields(r)]
    return [rule.get("field") or ("rx" if "rx" in rule else "event")]


def test_each_rule_has_at_most_3_conditions_and_no_geography(population, brand_client):
    body = _personas(brand_client, k=4)
    for persona in body["personas"]:
        fields = _fields(persona["entry_rule"])
        assert len(fields) <= 3, persona["plain_english"]
        assert not {"state", "territory", "account.state", "account.territory"} & set(fields)
