"""Permission matrix: every role x every governed action, through the API.

A role outside the action's roles gets 403 and nothing changes (no state, no
audit event); a role inside it is not refused. The expected roles are written
from docs/governance.md and docs/api.md, not read from ACTION_ROLES.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.permissions import ACTION_ROLES, allowed
from audit.models import AuditEvent
from content.models import ContentAsset, ContentMapping
from governance import services as governance
from governance.models import Signature
from segmentation.models import SegmentVersion
from tests.factories import TerritoryFactory
from tests.factories.discovery import make_population
from tests.governance.support import PASSWORD, active_segment, approve_all, asset, draft

pytestmark = pytest.mark.django_db


ROLES = ("brand", "access", "medical", "compliance", "field_lead", "admin")

# action -> roles the contract lets do it
EXPECTED = {
    "submit": {"brand", "admin"},
    "sign": {"brand", "access", "medical"},
    "activate": {"brand", "admin"},
    "retire": {"brand", "admin"},
    "list_assets": {"brand", "compliance", "admin"},
    "create_asset": {"compliance", "admin"},
    "approve_asset": {"compliance"},
    "withdraw_asset": {"compliance"},
    "patch_asset_expiry": {"compliance"},
    "list_mappings": {"brand", "compliance", "admin"},
    "propose_mapping": {"brand"},
    "decide_mapping": {"compliance"},
    "audit": {"compliance", "admin"},
    "territory_view": {"field_lead", "admin"},
    "run_discovery": {"brand", "admin"},
    "differentiators": {"brand", "access", "medical", "compliance", "admin"},
}


def _in_review(make_user):
    version = draft(make_user("brand"), "cardio")
    governance.submit_version(user=version.author, version=version)


def _approved(make_user):
    version = draft(make_user("brand"), "cardio")
    governance.submit_version(user=version.author, version=version)
    approve_all(version, make_user("brand"), make_user("access"), make_user("medical"))


def _proposed(make_user):
    from content import services

    version = active_segment(make_user, "cardio")
    item = asset()
    return services.propose_mapping(
        user=make_user("brand"), asset=item, segment=version.segment, rationale="fits"
    )


def _draft_asset_with_expiry(make_user):
    asset(mlr_status="draft", expires_at=timezone.now() + dt.timedelta(days=30))


def setup_and_request(action, make_user, role):
    """Prepare the data and return (method, path, body)."""
    team = role if role in ("brand", "access", "medical") else "brand"
    if action == "submit":
        draft(make_user("brand"), "cardio")
        return "post", "/api/v1/segments/cardio/submit/", {}
    if action == "sign":
        _in_review(make_user)
        return (
            "post",
            "/api/v1/segments/cardio/signatures/",
            {
                "team": team,
                "decision": "approve",
                "comment": "ok",
                "password": PASSWORD,
            },
        )
    if action == "activate":
        _approved(make_user)
        return "post", "/api/v1/segments/cardio/activate/", {}
    if action == "retire":
        active_segment(make_user, "cardio")
        return "post", "/api/v1/segments/cardio/retire/", {"reason": "done"}
    if action == "list_assets":
        asset()
        return "get", "/api/v1/assets/", None
    if action == "create_asset":
        return (
            "post",
            "/api/v1/assets/",
            {
                "code": "US-NEW-1",
                "title": "New",
                "audience": "hcp",
                "intent": "promotional",
                "channels": ["email"],
            },
        )
    if action == "approve_asset":
        _draft_asset_with_expiry(make_user)
        return (
            "post",
            "/api/v1/assets/US-CARD-0042/status/",
            {
                "status": "approved",
                "password": PASSWORD,
            },
        )
    if action == "withdraw_asset":
        asset()
        return (
            "post",
            "/api/v1/assets/US-CARD-0042/status/",
            {
                "status": "withdrawn",
                "reason": "label change",
                "password": PASSWORD,
            },
        )
    if action == "patch_asset_expiry":
        asset()
        return "patch", "/api/v1/assets/US-CARD-0042/", {"expires_at": "2040-01-01"}
    if action == "list_mappings":
        _proposed(make_user)
        return "get", "/api/v1/mappings/", None
    if action == "propose_mapping":
        active_segment(make_user, "cardio")
        asset()
        return (
            "post",
            "/api/v1/mappings/",
            {
                "asset": "US-CARD-0042",
                "segment": "cardio",
                "rationale": "fits",
            },
        )
    if action == "decide_mapping":
        mapping = _proposed(make_user)
        return (
            "post",
            f"/api/v1/mappings/{mapping.pk}/decision/",
            {
                "decision": "approve",
                "comment": "ok",
                "password": PASSWORD,
            },
        )
    if action == "audit":
        return "get", "/api/v1/audit/", None
    if action == "run_discovery":
        make_population(40)
        return "post", "/api/v1/discovery/personas/", {"k": 2}
    if action == "differentiators":
        make_population(40)
        draft(make_user("brand"), "cardio")
        return "get", "/api/v1/segments/cardio/differentiators/", None
    if action == "territory_view":
        TerritoryFactory(code="NE-01")
        return "get", "/api/v1/territories/NE-01/segments/", None
    raise AssertionError(action)


def fingerprint():
    """Everything a governed action could change."""
    return (
        AuditEvent.objects.count(),
        Signature.objects.count(),
        sorted(SegmentVersion.objects.values_list("segment__key", "number", "state")),
        sorted(ContentAsset.objects.values_list("code", "mlr_status", "expires_at")),
        sorted(ContentMapping.objects.values_list("id", "state")),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_may_or_may_not(make_user, action, role):
    method, path, body = setup_and_request(action, make_user, role)
    user = make_user(role, territories=["NE-01"] if role == "field_lead" else [])
    client = APIClient()
    client.force_authenticate(user=user)
    before = fingerprint()
    response = getattr(client, method)(path, body, format="json")
    if role in EXPECTED[action]:
        assert response.status_code in (200, 201), (response.status_code, response.json())
    else:
        assert response.status_code == 403, (response.status_code, response.content[:300])
        assert "errors" in response.json()
        assert fingerprint() == before


def test_unauthenticated_requests_are_refused(db):
    response = APIClient().get("/api/v1/audit/")
    assert response.status_code in (401, 403)


def test_superuser_holds_every_role(make_user):
    superuser = make_user(is_superuser=True)
    assert all(allowed(superuser, action) for action in ACTION_ROLES)


def test_inactive_user_holds_no_role(make_user):
    user = make_user("admin", is_active=False)
    assert not any(allowed(user, action) for action in ACTION_ROLES)
