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
