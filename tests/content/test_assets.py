"""Content assets and their MLR status (docs/governance.md, docs/api.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from content import services
from content.models import ContentAsset
from content.tasks import expire_assets
from tests.governance.support import PASSWORD, asset

pytestmark = pytest.mark.django_db

NEW = {
    "code": "US-CARD-0042",
    "title": "Heart failure dosing guide",
    "audience": "hcp",
    "intent": "promotional",
    "therapy_area": "cardiology",
    "indications": ["heart_failure"],
    "channels": ["email", "rep_visit"],
}


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


def future(days=30) -> str:
    return (timezone.now() + dt.timedelta(days=days)).date().isoformat()


def test_new_asset_starts_draft(make_user):
    response = client(make_user("compliance")).post(
        "/api/v1/assets/", {**NEW, "mlr_status": "approved"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["mlr_status"] == "draft"


def test_asset_has_the_interface_shape(make_user):
    body = client(make_user("compliance")).post("/api/v1/assets/", NEW, format="json").json()
    for key in (
        "code",
        "title",
        "audience",
        "intent",
        "therapy_area",
        "indications",
        "channels",
        "mlr_status",
        "mlr_reference",
        "mlr_approved_at",
        "expires_at",
    ):
        assert key in body


def test_brand_reads_but_cannot_create_assets(make_user):
    brand = client(make_user("brand"))
    assert brand.post("/api/v1/assets/", NEW, format="json").status_code == 403
    assert not ContentAsset.objects.exists()
    assert brand.get("/api/v1/assets/").status_code == 200


def test_duplicate_code_answers_400(make_user):
    compliance = client(make_user("compliance"))
    compliance.post("/api/v1/assets/", NEW, format="json")
    response = compliance.post("/api/v1/assets/", NEW, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "code"


@pytest.mark.parametrize(
    "field,value",
    [("audience", "nurse"), ("intent", "sales"), ("channels", ["fax"]), ("indications", "hf")],
)
def test_invalid_vocabulary_answers_400_with_path(make_user, field, value):
    response = client(make_user("compliance")).post(
        "/api/v1/assets/", {**NEW, field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"].startswith(field)


def test_expires_at_date_means_midnight_utc(make_user):
    body = (
        client(make_user("compliance"))
        .post("/api/v1/assets/", {**NEW, "expires_at": "2031-05-01"}, format="json")
        .json()
    )
    assert body["expires_at"] in ("2031-05-01T00:00:00Z", "2031-05-01T00:00:00+00:00")


def approve(user, code, password=PASSWORD):
    return client(user).post(
        f"/api/v1/assets/{code}/status/",
        {"status": "approved", "password": password},
        format="json",
    )


def test_compliance_approves_with_password_and_future_expiry(make_user):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", {**NEW, "expires_at": future()}, format="json")
    response = approve(compliance, "US-CARD-0042")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["mlr_status"] == "approved" and body["mlr_approved_at"]


def test_approval_requires_a_future_expiry(make_user):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", NEW, format="json")
    response = approve(compliance, "US-CARD-0042")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "expires_at"


def test_approval_with_wrong_password_is_refused_and_logged(make_user):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", {**NEW, "expires_at": future()}, format="json")
    assert approve(compliance, "US-CARD-0042", password="nope").status_code == 403
    assert ContentAsset.objects.get().mlr_status == "draft"
    assert AuditEvent.objects.filter(action="signature.failed", object_type="asset").exists()


@pytest.mark.parametrize("role", ["admin", "brand", "medical"])
def test_only_compliance_records_approval(make_user, role):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", {**NEW, "expires_at": future()}, format="json")
    assert approve(make_user(role), "US-CARD-0042").status_code == 403
    assert ContentAsset.objects.get().mlr_status == "draft"


def test_withdrawal_needs_a_reason(make_user):
    asset()
    response = client(make_user("compliance")).post(
        "/api/v1/assets/US-CARD-0042/status/",
        {"status": "withdrawn", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "reason"
    assert ContentAsset.objects.get().mlr_status == "approved"


def test_withdrawal_records_the_reason(make_user):
    asset()
    response = client(make_user("compliance")).post(
        "/api/v1/assets/US-CARD-0042/status/",
        {"status": "withdrawn", "reason": "label change", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    assert ContentAsset.objects.get().withdrawn_reason == "label change"
    assert AuditEvent.objects.get(action="asset.withdrawn").reason == "label change"


def test_expired_cannot_be_set_by_hand(make_user):
    asset()
    response = client(make_user("compliance")).post(
        "/api/v1/assets/US-CARD-0042/status/",
        {"status": "expired", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400


def test_compliance_moves_draft_to_in_review(make_user):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", NEW, format="json")
    response = client(compliance).post(
        "/api/v1/assets/US-CARD-0042/status/", {"status": "in_review"}, format="json"
    )
    assert response.status_code == 200 and response.json()["mlr_status"] == "in_review"


def test_read_never_serves_an_expired_asset_as_approved(make_user):
    item = asset()
    ContentAsset.objects.filter(pk=item.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    body = client(make_user("brand")).get("/api/v1/assets/US-CARD-0042/").json()
    assert body["mlr_status"] == "expired"


def test_selector_reports_effective_status_without_any_write():
    item = asset(expires_at=timezone.now() - dt.timedelta(seconds=1))
    from content.selectors import asset_get

    assert asset_get(code=item.code).effective_status == "expired"


def test_beat_task_expires_assets_past_their_date():
    due = asset("US-OLD", expires_at=timezone.now() - dt.timedelta(days=1))
    fresh = asset("US-NEW")
    assert expire_assets() == ["US-OLD"]
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.mlr_status, fresh.mlr_status) == ("expired", "approved")
    assert AuditEvent.objects.filter(action="asset.expired", object_id="US-OLD").exists()


def test_patching_a_past_expiry_expires_an_approved_asset_at_once(make_user):
    asset()
    response = client(make_user("compliance")).patch(
        "/api/v1/assets/US-CARD-0042/", {"expires_at": "2020-01-01"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["mlr_status"] == "expired"
    assert ContentAsset.objects.get().mlr_status == "expired"


@pytest.mark.parametrize("cleared", [None, ""])
def test_an_approved_asset_keeps_an_expiry_date(make_user, cleared):
    asset()
    response = client(make_user("compliance")).patch(
        "/api/v1/assets/US-CARD-0042/", {"expires_at": cleared}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "expires_at"
    assert ContentAsset.objects.get().expires_at is not None


def test_admin_cannot_move_the_expiry_date(make_user):
    asset()
    response = client(make_user("admin")).patch(
        "/api/v1/assets/US-CARD-0042/", {"expires_at": "2020-01-01"}, format="json"
    )
    assert response.status_code == 403
    assert ContentAsset.objects.get().mlr_status == "approved"


def test_approved_content_is_locked(make_user):
    asset()
    response = client(make_user("compliance")).patch(
        "/api/v1/assets/US-CARD-0042/", {"audience": "patient"}, format="json"
    )
    assert response.status_code == 400
    assert ContentAsset.objects.get().audience == "hcp"


def test_draft_content_can_be_edited(make_user):
    compliance = make_user("compliance")
    client(compliance).post("/api/v1/assets/", NEW, format="json")
    response = client(compliance).patch(
        "/api/v1/assets/US-CARD-0042/", {"title": "New title"}, format="json"
    )
    assert response.status_code == 200 and response.json()["title"] == "New title"


def test_reapproval_of_an_expired_asset_with_a_new_date(make_user):
    item = asset(mlr_status="expired", expires_at=timezone.now() - dt.timedelta(days=1))
    compliance = make_user("compliance")
    services.update_asset(user=compliance, asset=item, data={"expires_at": future(60)})
    assert approve(compliance, item.code).status_code == 200


def test_unknown_asset_answers_404(make_user):
    assert client(make_user("brand")).get("/api/v1/assets/NOPE/").status_code == 404
