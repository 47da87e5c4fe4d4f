"""Saving a suggestion: the version carries the run's provenance; editing marks it edited."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from segmentation.models import SegmentVersion

from .conftest import THREE_CONDITIONS, members_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(population, describe):
    body = describe(npis=members_of(THREE_CONDITIONS)[:30]).json()
    return body


def _save(client, rule, provenance, key="from-list"):
    return client.post(
        "/api/v1/segments/",
        {
            "key": key,
            "name": "From a list",
            "purpose": "promotional",
            "entry_rule": rule,
            "provenance": provenance,
        },
        format="json",
    )


def test_a_saved_suggestion_carries_its_provenance(run, brand_client):
    response = _save(brand_client, run["entry_rule"], {"discovery": run["id"]})
    assert response.status_code == 201, response.json()
    provenance = response.json()["versions"][0]["provenance"]
    assert provenance["discovery"] == run["id"]
    assert provenance["method"] == "decision_tree"
    assert provenance["metrics"] == run["metrics"]
    assert provenance["population"] == run["model"]["population"]
    assert provenance["positives"] == 30 and provenance["list_size"] == 30
    assert len(provenance["npis_sha256"]) == 64
    assert provenance["as_of"] == run["model"]["as_of"]
    assert provenance["edited"] is False


def test_the_save_is_audited_against_the_run(run, brand_client):
    _save(brand_client, run["entry_rule"], {"discovery": run["id"]})
    event = AuditEvent.objects.get(action="discovery_run.saved")
    assert event.object_id == str(run["id"])
    assert event.after["segment"] == "from-list"


def test_editing_the_rule_keeps_provenance_and_marks_it_edited(run, brand_client):
    _save(brand_client, run["entry_rule"], {"discovery": run["id"]})
    response = brand_client.patch(
        "/api/v1/segments/from-list/",
        {"entry_rule": {"field": "decile", "op": "gte", "value": 9}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    provenance = response.json()["versions"][0]["provenance"]
    assert provenance["discovery"] == run["id"] and provenance["edited"] is True


def test_renaming_is_not_editing_the_rule(run, brand_client):
    _save(brand_client, run["entry_rule"], {"discovery": run["id"]})
    brand_client.patch("/api/v1/segments/from-list/", {"name": "Renamed"}, format="json")
    assert SegmentVersion.objects.get().provenance["edited"] is False


def test_saving_a_changed_suggestion_is_edited_from_the_start(run, brand_client):
    rule = {"field": "decile", "op": "gte", "value": 9}
    response = _save(brand_client, rule, {"discovery": run["id"]})
    assert response.json()["versions"][0]["provenance"]["edited"] is True


def test_persona_provenance_names_the_persona(population, brand_client):
    body = brand_client.post("/api/v1/discovery/personas/", {"k": 2}, format="json").json()
    persona = body["personas"][1]
    response = _save(brand_client, persona["entry_rule"], {"discovery": body["id"], "persona": 1})
    provenance = response.json()["versions"][0]["provenance"]
    assert provenance["persona"] == 1 and provenance["label"] == persona["label"]
    assert provenance["fidelity"] == persona["fidelity"]


@pytest.mark.parametrize(
    "provenance, path",
    [
        ({"discovery": 999_999}, "provenance.discovery"),
        ({"discovery": "x"}, "provenance.discovery"),
        ({"discovery": 1, "why": 2}, "provenance.why"),
        ("run 1", "provenance"),
    ],
)
def test_bad_provenance_is_a_400_and_saves_nothing(run, brand_client, provenance, path):
    response = _save(brand_client, run["entry_rule"], provenance)
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path
    assert not SegmentVersion.objects.exists()


def test_a_describe_run_has_no_persona(run, brand_client):
    response = _save(brand_client, run["entry_rule"], {"discovery": run["id"], "persona": 0})
    assert response.json()["errors"][0]["path"] == "provenance.persona"


def test_signers_see_provenance_on_the_review_page(run, brand_client, make_user):
    from django.test import Client

    _save(brand_client, run["entry_rule"], {"discovery": run["id"]})
    brand_client.post("/api/v1/segments/from-list/submit/", {}, format="json")
    signer = Client()
    signer.force_login(make_user("medical"))
    page = signer.get("/reviews/from-list/v1/")
    assert page.status_code == 200
    assert f"discovery run #{run['id']}" in page.content.decode()
