"""Compliance's asset pages: create, edit, MLR status with e-signature, history, where used
(docs/governance.md, "Content assets")."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from content.models import ContentAsset, ContentMapping
from tests.pages.conftest import PASSWORD, decide_world_mapping


def _asset_post(**overrides) -> dict:
    data = {
        "code": "US-CARD-0100",
        "title": "HF <b>patient</b> leaflet",
        "audience": "hcp",
        "intent": "promotional",
        "therapy_area": "cardiology",
        "indications": ["heart_failure"],
        "channels": ["email"],
        "mlr_reference": "",
        "expires_at": "",
        "link": "",
    }
    data.update(overrides)
    return data


def test_compliance_creates_a_draft_asset(world, page_client):
    response = page_client(world.users.compliance).post("/content/new/", _asset_post())
    assert response.status_code == 302
    assert response["Location"] == "/content/US-CARD-0100/"
    asset = ContentAsset.objects.get(code="US-CARD-0100")
    assert (asset.mlr_status, asset.indications) == ("draft", ["heart_failure"])
    html = page_client(world.users.compliance).get("/content/US-CARD-0100/").content.decode()
    assert "HF &lt;b&gt;patient&lt;/b&gt; leaflet" in html
    assert "created" in html


def test_unknown_indication_is_refused(world, page_client):
    response = page_client(world.users.compliance).post(
        "/content/new/", _asset_post(indications=["heart_failur"])
    )
    assert response.status_code == 400
    assert not ContentAsset.objects.filter(code="US-CARD-0100").exists()


def test_brand_cannot_create_assets(world, page_client):
    assert page_client(world.users.brand).get("/content/new/").status_code == 403


def test_approval_needs_password_and_future_expiry(world, page_client):
    client = page_client(world.users.compliance)
    client.post("/content/new/", _asset_post())
    future = (timezone.now() + dt.timedelta(days=200)).date().isoformat()
    response = client.post(
        "/content/US-CARD-0100/status/",
        {"status": "approved", "expires_at": future, "password": "wrong"},
    )
    assert response.status_code in (400, 403)
    assert ContentAsset.objects.get(code="US-CARD-0100").mlr_status == "draft"
    response = client.post(
        "/content/US-CARD-0100/status/",
        {"status": "approved", "expires_at": future, "password": PASSWORD},
    )
    assert response.status_code == 302
    asset = ContentAsset.objects.get(code="US-CARD-0100")
    assert asset.mlr_status == "approved"
    assert asset.expires_at.date().isoformat() == future


def test_withdrawal_revokes_mappings_and_page_shows_why(world, page_client):
    decide_world_mapping(world, "approve", "fits")
    client = page_client(world.users.compliance)
    response = client.post(
        "/content/US-CARD-0042/status/",
        {"status": "withdrawn", "reason": "label change", "password": PASSWORD},
    )
    assert response.status_code == 302
    world.mapping.refresh_from_db()
    assert world.mapping.state == "revoked"
    html = client.get("/content/US-CARD-0042/").content.decode()
    assert "withdrawn: label change" in html
    assert ContentMapping.objects.filter(state="revoked").count() == 1


def test_expired_asset_reads_expired_on_and_offers_no_plain_approve(world, page_client):
    ContentAsset.objects.filter(pk=world.asset.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    html = page_client(world.users.compliance).get("/content/US-CARD-0042/").content.decode()
    assert "Expired on" in html and "Expires on</dt>" not in html
    assert 'value="approved"' in html  # re-approval, with a new date
    assert 'name="expires_at"' in html
    listing = page_client(world.users.compliance).get("/content/").content.decode()
    assert "expired on" in listing
    # Approving again without a new future date is refused.
    response = page_client(world.users.compliance).post(
        "/content/US-CARD-0042/status/", {"status": "approved", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "future expiry" in response.content.decode()


def test_approved_asset_offers_no_approve(world, page_client):
    html = page_client(world.users.compliance).get("/content/US-CARD-0042/").content.decode()
    assert 'value="approved"' not in html
    assert 'value="withdrawn"' in html
