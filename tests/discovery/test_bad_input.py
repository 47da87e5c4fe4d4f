"""Bad input to discovery is a 400 that says what to change; never a 500, never a stored run."""

from __future__ import annotations

import pytest

from discovery.models import DiscoveryRun
from segmentation.models import Segment
from tests.factories import CustomerFactory, valid_npi
from tests.governance.support import draft

pytestmark = pytest.mark.django_db


def _errors(response) -> list[dict]:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert DiscoveryRun.objects.count() == 0
    return response.json()["errors"]


def _npis(population, n=20) -> list[str]:
    return [c.npi for c in population[:n]]


def test_unknown_npis_are_named_at_most_twenty(population, describe):
    unknown = [valid_npi(900_000 + i) for i in range(25)]
    errors = _errors(describe(npis=_npis(population) + unknown))
    assert errors[0]["path"] == "npis"
    named = [n for n in unknown if n in errors[0]["message"]]
    assert len(named) == 20
    assert "25 NPIs match no customer" in errors[0]["message"]


def test_npis_outside_the_parent_segment_are_refused(population, describe, make_user):
    draft(make_user("brand"), "cardio")  # a draft never recomputed: no members
    CustomerFactory()
    errors = _errors(describe(npis=_npis(population), parent="cardio"))
    assert "population is empty" in errors[0]["message"]


def test_npis_outside_a_populated_parent_are_named(population, describe, make_user):
    from segmentation.services import recompute_version

    version = draft(make_user("brand"), "cardio")
    recompute_version(version=version)
    inside = set(version.members.values_list("customer__npi", flat=True))
    outside = [c.npi for c in population if c.npi not in inside][:12]
    errors = _errors(describe(npis=outside, parent="cardio"))
    assert "not in the population" in errors[0]["message"]
    assert outside[0] in errors[0]["message"]


def test_fewer_than_ten_npis(population, describe):
    errors = _errors(describe(npis=_npis(population, 9)))
    assert errors == [{"path": "npis", "message": errors[0]["message"]}]
    assert "at least 10" in errors[0]["message"]


def test_more_than_200000_npis(db, describe):
    errors = _errors(describe(npis=[str(i) for i in range(200_001)]))
    assert "at most 200,000" in errors[0]["message"]


def test_npis_must_be_a_list_of_strings(population, describe):
    assert _errors(describe(npis="1234567893"))[0]["path"] == "npis"
    assert _errors(describe(npis=[1234567893] * 10))[0]["path"] == "npis[0]"


def test_empty_population(db, describe):
    errors = _errors(describe(npis=[valid_npi(i) for i in range(10)]))
    assert "population is empty" in errors[0]["message"]


def test_unknown_parent(population, describe):
    errors = _errors(describe(npis=_npis(population), parent="nope"))
    assert errors[0]["path"] == "parent"


@pytest.mark.parametrize("value", [0, 9, "four", 2.5, True])
def test_max_conditions_out_of_range(population, describe, value):
    errors = _errors(describe(npis=_npis(population), max_conditions=value))
    assert errors[0]["path"] == "max_conditions"


def test_the_whole_population_as_the_list(db, describe):
    everyone = [CustomerFactory(decile=i % 10 + 1).npi for i in range(12)]
    errors = _errors(describe(npis=everyone))
    assert "whole population" in errors[0]["message"]


def test_constant_features(db, describe):
    same = [CustomerFactory(last_name="Same").npi for _ in range(30)]
    errors = _errors(describe(npis=same[:10]))
    assert "constant" in errors[0]["message"]


@pytest.mark.parametrize("k", [1, 13, "three", True])
def test_personas_k_out_of_range(population, brand_client, k):
    response = brand_client.post("/api/v1/discovery/personas/", {"k": k}, format="json")
    assert _errors(response)[0]["path"] == "k"


def test_personas_unknown_family(population, brand_client):
    response = brand_client.post(
        "/api/v1/discovery/personas/", {"families": ["profile", "mood"]}, format="json"
    )
    assert _errors(response)[0]["path"] == "families"


def test_personas_of_an_empty_population(db, brand_client, make_user):
    draft(make_user("brand"), "cardio")
    assert Segment.objects.filter(key="cardio").exists()
    response = brand_client.post("/api/v1/discovery/personas/", {"parent": "cardio"}, format="json")
    assert "population is empty" in _errors(response)[0]["message"]


def test_personas_of_constant_customers(db, brand_client):
    for _ in range(30):
        CustomerFactory(last_name="Same")
    response = brand_client.post("/api/v1/discovery/personas/", {}, format="json")
    assert "constant" in _errors(response)[0]["message"]
