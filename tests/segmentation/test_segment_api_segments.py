"""Segment API: catalog, create, read, edit, validation answers and roles."""

from __future__ import annotations

import pytest

from segmentation.models import SegmentVersion

from .segments_support import ALWAYS, EXAMPLE_ENTRY, EXAMPLE_EXIT, activate, make_segment

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments/"


def create_body(**overrides):
    body = {
        "key": "cardio-engaged",
        "name": "Engaged cardiology HCPs",
        "purpose": "promotional",
        "therapy_area": "cardiovascular",
        "indications": ["heart_failure"],
        "entry_rule": EXAMPLE_ENTRY,
        "exit_rule": EXAMPLE_EXIT,
    }
    body.update(overrides)
    return body


def error_paths(response) -> list[str]:
    return [e["path"] for e in response.json()["errors"]]


def test_field_catalog_lists_paths_types_and_values(client_for):
    response = client_for("medical").get("/api/v1/fields/")
    assert response.status_code == 200
    fields = {f["path"]: f for f in response.json()["results"]}
    assert fields["decile"]["type"] == "integer"
    assert "cardiology" in fields["specialty"]["allowed_values"]
    assert {"path", "type", "allowed_values", "label"} <= set(fields["state"])


def test_field_catalog_is_refused_to_field_leads(client_for):
    assert client_for("field_lead").get("/api/v1/fields/").status_code == 403


def test_field_catalog_needs_authentication(api_client):
    assert api_client.get("/api/v1/fields/").status_code in (401, 403)


def test_create_answers_201_with_the_segment_shape(client_for):
    client = client_for("brand")
    response = client.post(SEGMENTS, create_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["key"], body["active_version"], body["latest_version"]) == (
        "cardio-engaged",
        None,
        1,
    )
    (version,) = body["versions"]
    assert {
        "number",
        "state",
        "name",
        "description",
        "purpose",
        "therapy_area",
        "indications",
        "parent",
        "entry_rule",
        "exit_rule",
        "content_hash",
        "author",
        "created_at",
        "member_count",
        "signatures",
    } <= set(version)
    assert version["state"] == "draft"
    assert version["author"] == client.user.username
    assert version["entry_rule"] == EXAMPLE_ENTRY
    assert version["indications"] == ["heart_failure"]
    assert (version["parent"], version["signatures"], version["member_count"]) == (None, [], 0)


def test_create_with_bad_rule_answers_400_with_paths(client_for):
    entry = {"all": [{"field": "specialty", "op": "equals", "value": "cardiology"}]}
    response = client_for("brand").post(SEGMENTS, create_body(entry_rule=entry), format="json")
    assert response.status_code == 400
    assert any(p.startswith("entry_rule.all[0]") for p in error_paths(response))


def test_create_with_wrong_types_answers_400(client_for):
    response = client_for("brand").post(
        SEGMENTS, create_body(name=["x"], indications="hf", key=5), format="json"
    )
    assert response.status_code == 400
    assert {"name", "indications"} <= set(error_paths(response))


def test_create_with_bad_key_and_purpose_names_both(client_for):
    response = client_for("brand").post(
        SEGMENTS, create_body(key="Bad Key", purpose="sales"), format="json"
    )
    assert response.status_code == 400
    assert {"key", "purpose"} <= set(error_paths(response))


def test_malformed_json_answers_400(client_for):
    response = client_for("brand").post(SEGMENTS, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "errors" in response.json()


def test_json_list_body_answers_400(client_for):
    response = client_for("brand").post(SEGMENTS, [1, 2], format="json")
    assert response.status_code == 400


def test_cycle_answers_400(client_for):
    client = client_for("brand")
    client.post(SEGMENTS, create_body(key="one", exit_rule=None, entry_rule=ALWAYS), format="json")
    client.post(SEGMENTS, create_body(key="two", entry_rule={"segment": "one"}), format="json")
    response = client.patch(f"{SEGMENTS}one/", {"entry_rule": {"segment": "two"}}, format="json")
    assert response.status_code == 400
    assert error_paths(response) == ["entry_rule"]


def test_list_is_paginated(client_for):
    client = client_for("brand")
    make_segment(client.user, "first", ALWAYS)
    make_segment(client.user, "second", ALWAYS)
    response = client.get(SEGMENTS, {"page_size": 1})
    body = response.json()
    assert (body["count"], len(body["results"]), body["results"][0]["key"]) == (2, 1, "first")
    assert body["next"]


def test_get_unknown_key_is_404(client_for):
    assert client_for("brand").get(f"{SEGMENTS}nope/").status_code == 404


def test_patch_draft_edits_in_place(client_for):
    client = client_for("brand")
    make_segment(client.user, "editable", ALWAYS)
    response = client.patch(f"{SEGMENTS}editable/", {"name": "New name"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["latest_version"] == 1
    assert body["versions"][0]["name"] == "New name"


def test_patch_active_opens_new_draft(client_for):
    client = client_for("brand")
    activate(make_segment(client.user, "live", ALWAYS))
    response = client.patch(f"{SEGMENTS}live/", {"exit_rule": EXAMPLE_EXIT}, format="json")
    body = response.json()
    assert (body["active_version"], body["latest_version"]) == (1, 2)
    assert [v["state"] for v in body["versions"]] == ["active", "draft"]
    assert body["versions"][1]["exit_rule"] == EXAMPLE_EXIT


def test_patch_in_review_answers_400(client_for):
    client = client_for("brand")
    version = make_segment(client.user, "frozen", ALWAYS)
    SegmentVersion.objects.filter(pk=version.pk).update(state="in_review")
    response = client.patch(f"{SEGMENTS}frozen/", {"name": "x"}, format="json")
    assert response.status_code == 400
    assert "only a draft can be edited" in response.json()["errors"][0]["message"]


def test_patch_null_exit_rule_removes_it(client_for):
    client = client_for("brand")
    make_segment(client.user, "exity", ALWAYS, exit_rule=EXAMPLE_EXIT)
    response = client.patch(f"{SEGMENTS}exity/", {"exit_rule": None}, format="json")
    assert response.json()["versions"][0]["exit_rule"] is None


def test_signatures_are_shown_on_the_version(client_for, make_user):
    from django.utils import timezone

    from governance.models import Signature

    client = client_for("brand")
    version = make_segment(client.user, "signed", ALWAYS)
    signer = make_user("medical")
    Signature.objects.create(
        version=version,
        team="medical",
        decision="approve",
        meaning="approve for medical",
        signer=signer,
        signer_username=signer.username,
        signer_name=signer.full_name,
        signed_at=timezone.now(),
        content_hash=version.content_hash,
    )
    (sig,) = client.get(f"{SEGMENTS}signed/").json()["versions"][0]["signatures"]
    assert sig["version"] == 1
    assert (sig["team"], sig["decision"], sig["signer_username"]) == (
        "medical",
        "approve",
        signer.username,
    )
    assert sig["content_hash"] == version.content_hash
    assert sig["voided"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", SEGMENTS),
        ("post", SEGMENTS),
        ("get", f"{SEGMENTS}seg/"),
        ("patch", f"{SEGMENTS}seg/"),
        ("post", f"{SEGMENTS}preview/"),
        ("post", f"{SEGMENTS}seg/recompute/"),
        ("get", f"{SEGMENTS}seg/members/"),
        ("get", f"{SEGMENTS}seg/history/"),
    ],
)
def test_field_lead_is_refused(client_for, make_user, method, path):
    make_segment(make_user("brand"), "seg", ALWAYS)
    response = getattr(client_for("field_lead"), method)(path, {}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["access", "medical", "compliance"])
def test_readers_cannot_create(client_for, role):
    response = client_for(role).post(SEGMENTS, create_body(), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["access", "medical", "compliance"])
def test_readers_can_read(client_for, make_user, role):
    make_segment(make_user("brand"), "readable", ALWAYS)
    assert client_for(role).get(f"{SEGMENTS}readable/").status_code == 200
