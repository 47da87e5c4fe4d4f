"""Sign-off through the HTTP API only: submit, three signatures, activate, retire."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.models import Signature
from tests.factories import CustomerFactory

from .support import CARDIOLOGY, PASSWORD

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


@pytest.fixture
def team(make_user):
    return {
        "author": make_user("brand"),
        "brand": make_user("brand", full_name="Bea Brand"),
        "access": make_user("access", full_name="Abe Access"),
        "medical": make_user("medical", full_name="Meg Medical"),
    }


def create(author, key="cardio"):
    response = client(author).post(
        "/api/v1/segments/",
        {
            "key": key,
            "name": "Cardiologists",
            "purpose": "promotional",
            "therapy_area": "cardiology",
            "indications": ["heart_failure"],
            "entry_rule": CARDIOLOGY,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()


def signature(user, team, decision="approve", comment="ok", password=PASSWORD, key="cardio"):
    return client(user).post(
        f"/api/v1/segments/{key}/signatures/",
        {"team": team, "decision": decision, "comment": comment, "password": password},
        format="json",
    )


def test_draft_to_active_through_the_api_with_three_signatures_of_three_others(team):
    CustomerFactory.create_batch(2, specialty="cardiology")
    create(team["author"])
    assert client(team["author"]).post("/api/v1/segments/cardio/submit/").status_code == 200
    for name in ("brand", "access", "medical"):
        response = signature(team[name], name)
        assert response.status_code == 201, response.json()
    response = client(team["author"]).post("/api/v1/segments/cardio/activate/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "active"
    detail = client(team["author"]).get("/api/v1/segments/cardio/").json()
    assert detail["active_version"] == 1
    version = detail["versions"][0]
    assert version["member_count"] == 2
    assert {s["team"] for s in version["signatures"]} == {"brand", "access", "medical"}


def test_activation_with_two_signatures_is_refused(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    signature(team["brand"], "brand")
    signature(team["access"], "access")
    response = client(team["author"]).post("/api/v1/segments/cardio/activate/")
    assert response.status_code == 400
    assert "approved" in response.json()["errors"][0]["message"]


def test_signature_answer_has_the_signature_shape(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    body = signature(team["medical"], "medical", comment="fine").json()
    assert {
        "version",
        "team",
        "decision",
        "meaning",
        "comment",
        "signer_username",
        "signer_name",
        "signed_at",
        "content_hash",
    } <= set(body)
    assert body["signer_name"] == "Meg Medical" and body["version"] == 1


def test_wrong_password_answers_403_signs_nothing_and_is_logged(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    response = signature(team["access"], "access", password="wrong")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "password does not match"
    assert not Signature.objects.exists()
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1


def test_author_signature_through_the_api_is_refused(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    assert signature(team["author"], "brand").status_code == 403


def test_reject_through_the_api_returns_to_draft(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    response = signature(team["medical"], "medical", decision="reject", comment="off-label risk")
    assert response.status_code == 201
    detail = client(team["author"]).get("/api/v1/segments/cardio/").json()
    assert detail["versions"][0]["state"] == "draft"


def test_reject_without_comment_answers_400(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    response = signature(team["medical"], "medical", decision="reject", comment="")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "comment"


def test_signing_a_segment_with_nothing_in_review_answers_400(team):
    create(team["author"])
    response = signature(team["medical"], "medical")
    assert response.status_code == 400


def test_unknown_segment_answers_404(team):
    assert client(team["author"]).post("/api/v1/segments/nope/submit/").status_code == 404


def test_retire_through_the_api(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    for name in ("brand", "access", "medical"):
        signature(team[name], name)
    client(team["author"]).post("/api/v1/segments/cardio/activate/")
    response = client(team["author"]).post(
        "/api/v1/segments/cardio/retire/", {"reason": "campaign over"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "retired"


def test_submit_twice_answers_400_naming_the_rule(team):
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    response = client(team["author"]).post("/api/v1/segments/cardio/submit/")
    assert response.status_code == 400
    assert "draft" in response.json()["errors"][0]["message"]


def test_one_person_for_two_teams_answers_403(team, make_user):
    both = make_user("access", "medical")
    create(team["author"])
    client(team["author"]).post("/api/v1/segments/cardio/submit/")
    assert signature(both, "access").status_code == 201
    assert signature(both, "medical").status_code == 403
    assert Signature.objects.count() == 1
