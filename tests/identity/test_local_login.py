"""LOCAL_LOGIN and break-glass (docs/identity.md, "Local accounts and break-glass")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audit.models import AuditEvent
from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _login(client, username):
    return client.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})


def test_with_sso_on_a_local_non_admin_cannot_sign_in(client, sso, make_user):
    make_user("brand", username="localbrand")
    response = _login(client, "localbrand")
    assert response.status_code == 200
    assert b"Local sign-in is off" in response.content
    assert "_auth_user_id" not in client.session


def test_with_sso_on_an_admin_signs_in_by_break_glass_and_it_is_audited(client, sso, make_user):
    make_user("admin", username="rescue")
    assert _login(client, "rescue").status_code == 302
    event = AuditEvent.objects.get(action="auth.break_glass")
    assert event.object_id == "rescue" and event.after["via"] == "/accounts/login/"


def test_local_login_can_be_turned_back_on_with_sso(client, sso, settings, make_user):
    settings.LOCAL_LOGIN = True
    make_user("brand", username="localbrand")
    assert _login(client, "localbrand").status_code == 302
    assert not AuditEvent.objects.filter(action="auth.break_glass").exists()


def test_with_sso_off_local_sign_in_is_as_before(client, make_user):
    make_user("brand", username="localbrand")
    assert _login(client, "localbrand").status_code == 302


def test_the_token_endpoint_follows_the_same_rule(api_client, sso, make_user):
    make_user("brand", username="localbrand")
    make_user("admin", username="rescue")
    refused = api_client.post(
        "/api/v1/auth/token/", {"username": "localbrand", "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 403
    assert "sign in with SSO" in refused.json()["errors"][0]["message"]
    allowed = api_client.post(
        "/api/v1/auth/token/", {"username": "rescue", "password": DEFAULT_PASSWORD}
    )
    assert allowed.status_code == 200
    assert AuditEvent.objects.get(action="auth.break_glass").after["via"] == "API token"


def test_an_sso_user_creates_an_api_token_on_a_page(client, sign_in):
    sign_in("tina-sub", groups=["brand"])
    page = client.post("/accounts/api-token/")
    token = page.context["token"]
    assert client.get("/api/v1/segments/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({"OIDC_ISSUER": "https://idp.example"}, "OIDC_ISSUER is set but OIDC_CLIENT_ID is not"),
        (
            {"OIDC_ISSUER": "https://idp.example", "OIDC_CLIENT_ID": "x"},
            "OIDC_ISSUER is set but OIDC_CLIENT_SECRET is not",
        ),
        ({"OIDC_CLIENT_ID": "x"}, "OIDC_CLIENT_ID is set but OIDC_ISSUER is not"),
        ({"OIDC_ISSUER": "idp.example"}, "OIDC_ISSUER must be the provider's https:// issuer URL"),
    ],
)
def test_a_bad_configuration_fails_fast_with_one_sentence(env, sentence):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert sentence in result.stderr


def test_an_admin_signing_in_through_sso_is_not_break_glass(sign_in):
    assert sign_in("ada-sub", groups=["admin"]).status_code == 302
    assert not AuditEvent.objects.filter(action="auth.break_glass").exists()
    assert AuditEvent.objects.filter(action="auth.sso_signed_in").exists()
