"""Content-to-segment mappings: the four guards on proposal and approval, decisions, revocation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from content import services
from content.models import ContentAsset, ContentMapping
from content.tasks import expire_assets
from governance import services as governance
from tests.governance.support import PASSWORD, active_segment, asset

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


@pytest.fixture
def brand(make_user):
    return make_user("brand")


@pytest.fixture
def compliance(make_user):
    return make_user("compliance")


@pytest.fixture
def segment(make_user):
    """Active promotional segment ``cardio`` for heart failure."""
    return active_segment(make_user, "cardio", indications=["heart_failure"]).segment


def propose(user, code="US-CARD-0042", key="cardio", rationale="fits"):
    return client(user).post(
        "/api/v1/mappings/", {"asset": code, "segment": key, "rationale": rationale}, format="json"
    )


def decide(user, mapping_id, decision="approve", comment="ok", password=PASSWORD):
    return client(user).post(
        f"/api/v1/mappings/{mapping_id}/decision/",
        {"decision": decision, "comment": comment, "password": password},
        format="json",
    )


def test_brand_proposes_a_mapping(brand, segment):
    asset()
    response = propose(brand)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        "id",
        "asset",
        "segment",
        "segment_version",
        "state",
        "rationale",
        "proposed_by",
        "decided_by",
        "decision_comment",
        "revoked_reason",
    } <= set(body)
    assert (body["asset"], body["segment"], body["segment_version"], body["state"]) == (
        "US-CARD-0042",
        "cardio",
        1,
        "proposed",
    )
    assert body["proposed_by"] == brand.username and body["decided_by"] is None


def test_compliance_approves_with_signature(brand, compliance, segment):
    asset()
    mapping_id = propose(brand).json()["id"]
    response = decide(compliance, mapping_id, comment="MLR ok")
    assert response.status_code == 200, response.json()
    mapping = ContentMapping.objects.get()
    assert mapping.state == "approved"
    assert mapping.signer_name == compliance.printed_name
    assert "approve" in mapping.signature_meaning
    assert mapping.signed_content_hash == mapping.segment_version.content_hash
    assert response.json()["decided_by"] == compliance.username


def test_decision_with_wrong_password_is_refused_and_logged(brand, compliance, segment):
    asset()
    mapping_id = propose(brand).json()["id"]
    assert decide(compliance, mapping_id, password="bad").status_code == 403
    assert ContentMapping.objects.get().state == "proposed"
    assert AuditEvent.objects.filter(action="signature.failed", object_type="mapping").exists()


def test_proposer_cannot_decide(make_user, segment):
    both = make_user("brand", "compliance")
    asset()
    mapping_id = propose(both).json()["id"]
    assert decide(both, mapping_id).status_code == 403
    assert ContentMapping.objects.get().state == "proposed"


def test_reject_needs_a_comment(brand, compliance, segment):
    asset()
    mapping_id = propose(brand).json()["id"]
    assert decide(compliance, mapping_id, decision="reject", comment="").status_code == 400
    assert decide(compliance, mapping_id, decision="reject", comment="no").status_code == 200
    assert ContentMapping.objects.get().state == "rejected"


def test_only_brand_proposes(compliance, segment):
    asset()
    assert propose(compliance).status_code == 403
    assert not ContentMapping.objects.exists()


def test_only_compliance_decides(brand, make_user, segment):
    asset()
    mapping_id = propose(brand).json()["id"]
    for role in ("brand", "admin", "medical"):
        assert decide(make_user(role), mapping_id).status_code == 403
    assert ContentMapping.objects.get().state == "proposed"


def test_draft_segment_cannot_be_mapped(brand, make_user):
    from tests.governance.support import draft

    draft(make_user("brand"), "drafty")
    asset()
    response = propose(brand, key="drafty")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "segment"


# --- the four guards, on proposal -------------------------------------------------------


GUARD_CASES = [
    (
        "1",
        {"mlr_status": "draft"},
        "guard 1: asset US-CARD-0042 is not approved (mlr_status draft)",
    ),
    ("1", {"expires_at": timezone.now() - dt.timedelta(days=1)}, "guard 1:"),
    ("2", {"audience": "patient"}, "guard 2:"),
    ("3", {"intent": "medical_education"}, "guard 3:"),
    ("4", {"indications": ["heart_failure", "hypertension"]}, "guard 4:"),
]


@pytest.mark.parametrize("guard,fields,message", GUARD_CASES)
def test_each_guard_refuses_the_proposal(brand, segment, guard, fields, message):
    asset(**fields)
    response = propose(brand)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "asset"
    assert error["message"].startswith(message)
    assert not ContentMapping.objects.exists()


def test_guard_messages_are_distinct(brand, segment):
    asset(mlr_status="draft", audience="patient", intent="medical_education")
    messages = [e["message"] for e in propose(brand).json()["errors"]]
    assert [m[:8] for m in messages] == ["guard 1:", "guard 2:", "guard 3:"]


def test_access_resource_fits_a_promotional_segment(brand, segment):
    asset(intent="access_resource", indications=["anything"])
    assert propose(brand).status_code == 201


@pytest.mark.parametrize(
    "purpose,intent,fits",
    [
        ("medical_education", "medical_education", True),
        ("medical_education", "promotional", False),
        ("medical_education", "access_resource", False),
        ("market_access", "access_resource", True),
        ("market_access", "promotional", False),
        ("market_access", "medical_education", False),
    ],
)
def test_intent_must_fit_the_purpose(make_user, brand, purpose, intent, fits):
    active_segment(make_user, "seg", purpose=purpose, indications=["heart_failure"])
    asset(intent=intent)
    response = propose(brand, key="seg")
    assert response.status_code == (201 if fits else 400)
    if not fits:
        assert response.json()["errors"][0]["message"].startswith("guard 3:")


def test_non_promotional_asset_may_name_other_indications(make_user, brand):
    active_segment(make_user, "edu", purpose="medical_education", indications=["heart_failure"])
    asset(intent="medical_education", indications=["hypertension"])
    assert propose(brand, key="edu").status_code == 201


# --- the four guards, on approval -------------------------------------------------------


@pytest.mark.parametrize("guard,fields,message", GUARD_CASES)
def test_each_guard_refuses_the_approval(brand, compliance, segment, guard, fields, message):
    item = asset()
    mapping_id = propose(brand).json()["id"]
    ContentAsset.objects.filter(pk=item.pk).update(**fields)
    response = decide(compliance, mapping_id)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith(message)
    assert ContentMapping.objects.get().state == "proposed"


def test_guard_failure_on_approval_is_not_a_failed_signature(brand, compliance, segment):
    item = asset()
    mapping_id = propose(brand).json()["id"]
    ContentAsset.objects.filter(pk=item.pk).update(audience="payer")
    decide(compliance, mapping_id)
    assert not AuditEvent.objects.filter(action="signature.failed").exists()


# --- revocation ----------------------------------------------------------------------


def approved_mapping(brand, compliance) -> ContentMapping:
    mapping_id = propose(brand).json()["id"]
    decide(compliance, mapping_id)
    return ContentMapping.objects.get(pk=mapping_id)


def test_withdrawal_revokes_approved_mappings(brand, compliance, segment):
    item = asset()
    mapping = approved_mapping(brand, compliance)
    services.set_asset_status(
        user=compliance, asset=item, status="withdrawn", reason="label update", password=PASSWORD
    )
    mapping.refresh_from_db()
    assert mapping.state == "revoked"
    assert "withdrawn" in mapping.revoked_reason and "label update" in mapping.revoked_reason
    assert AuditEvent.objects.filter(action="mapping.revoked", object_id=str(mapping.pk)).exists()


def test_expiry_through_the_beat_task_revokes_approved_mappings(brand, compliance, segment):
    item = asset()
    mapping = approved_mapping(brand, compliance)
    ContentAsset.objects.filter(pk=item.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    expire_assets()
    mapping.refresh_from_db()
    assert mapping.state == "revoked" and "expired" in mapping.revoked_reason


def test_retirement_revokes_approved_mappings(brand, compliance, segment):
    asset()
    mapping = approved_mapping(brand, compliance)
    version = segment.versions.get(state="active")
    governance.retire_version(user=brand, version=version, reason="done")
    mapping.refresh_from_db()
    assert mapping.state == "revoked" and "retired" in mapping.revoked_reason


def test_approved_list_hides_a_mapping_whose_asset_just_expired(brand, compliance, segment):
    item = asset()
    approved_mapping(brand, compliance)
    ContentAsset.objects.filter(pk=item.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    body = client(compliance).get("/api/v1/mappings/?state=approved").json()
    assert body["count"] == 0


def test_mapping_list_is_paginated(brand, segment):
    asset()
    propose(brand)
    body = client(brand).get("/api/v1/mappings/").json()
    assert set(body) >= {"count", "next", "previous", "results"} and body["count"] == 1


def test_activating_a_version_that_no_longer_fits_revokes_the_mapping(
    make_user, brand, compliance, segment
):
    from segmentation import services as segments
    from tests.governance.support import approve_all

    asset()
    mapping = approved_mapping(brand, compliance)
    author = make_user("brand")
    v2 = segments.segment_update(user=author, segment=segment, indications=["angina"])
    governance.submit_version(user=author, version=v2)
    approve_all(v2, make_user("brand"), make_user("access"), make_user("medical"))
    governance.activate_version(user=author, version=v2)
    mapping.refresh_from_db()
    assert mapping.state == "revoked"
    assert "guard 4" in mapping.revoked_reason


def test_activating_a_version_that_still_fits_keeps_the_mapping(
    make_user, brand, compliance, segment
):
    from segmentation import services as segments
    from tests.governance.support import approve_all

    asset()
    mapping = approved_mapping(brand, compliance)
    author = make_user("brand")
    v2 = segments.segment_update(user=author, segment=segment, name="Renamed")
    governance.submit_version(user=author, version=v2)
    approve_all(v2, make_user("brand"), make_user("access"), make_user("medical"))
    governance.activate_version(user=author, version=v2)
    mapping.refresh_from_db()
    assert mapping.state == "approved"


def test_segment_content_panel_shows_a_decision_whose_decider_is_unknown(make_user, client):
    """A decided mapping without a decider (an old record) renders a dash, never a 500."""
    from django.urls import reverse

    from content.models import ContentMapping
    from tests.field.test_field_view import mapped
    from tests.governance.support import active_segment

    active_segment(make_user, "cardio")
    mapping = mapped(make_user)
    ContentMapping.objects.filter(pk=mapping.pk).update(decided_by=None, signer_name="")
    client.force_login(make_user("brand"))
    response = client.get(reverse("content:segment_content_panel", args=["cardio"]))
    assert response.status_code == 200
    assert "—" in response.content.decode()
