"""Part 11 §11.300 / ASVS V2-V3 access controls (docs/governance.md,
"Integrity and access controls"): lockout, audited failures, expiring and
revocable tokens, idle sessions, password validators everywhere."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from governance import services as governance
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.governance.support import draft

pytestmark = pytest.mark.django_db


def token_attempt(username: str, password: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_100_wrong_token_passwords_lock_the_account(make_user):
    make_user("brand", username="jdoe")
    codes = {token_attempt("jdoe", f"wrong-{i}").status_code for i in range(100)}
    assert codes <= {400, 403, 429}
    response = token_attempt("jdoe", DEFAULT_PASSWORD)
    assert response.status_code in (403, 429)
    assert "token" not in response.json()
    if response.status_code == 403:
        assert "locked" in response.json()["errors"][0]["message"]
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="jdoe").exists()
    assert AuditEvent.objects.filter(action="auth.locked_out", object_id="jdoe").exists()


def test_100_wrong_login_passwords_lock_the_login_page(make_user):
    make_user("brand", username="jdoe")
    client = Client()
    for i in range(100):
        client.post("/accounts/login/", {"username": "jdoe", "password": f"wrong-{i}"})
    response = client.post("/accounts/login/", {"username": "jdoe", "password": DEFAULT_PASSWORD})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session


def test_failed_logins_are_audited_without_the_password(make_user):
    make_user("brand", username="jdoe")
    Client().post("/accounts/login/", {"username": "jdoe", "password": "s3cret-guess"})
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.after["username"] == "jdoe"
    assert "s3cret-guess" not in str(event.before) + str(event.after) + event.reason


def in_review(make_user):
    """A segment version in review, authored by someone else than the signers."""
    author = make_user("brand")
    version = draft(author)
    governance.submit_version(user=author, version=version)
    return version


def sign(signer, version, password: str):
    return governance.sign_version(
        user=signer, version=version, team="access", decision="approve",
        comment="ok", password=password,
    )  # fmt: skip


def fail_signatures(signer, version, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Exception, match="password does not match"):
            sign(signer, version, "wrong")


def test_wrong_signature_passwords_lock_signing(make_user, settings):
    version = in_review(make_user)
    signer = make_user("access")
    fail_signatures(signer, version, settings.AXES_FAILURE_LIMIT)
    with pytest.raises(Exception, match="locked"):
        sign(signer, version, DEFAULT_PASSWORD)
    assert AuditEvent.objects.filter(action="signature.locked").exists()


def test_wrong_signature_passwords_lock_the_account_for_tokens(make_user, settings):
    version = in_review(make_user)
    signer = make_user("access", username="signer")
    fail_signatures(signer, version, settings.AXES_FAILURE_LIMIT)
    response = token_attempt("signer", DEFAULT_PASSWORD)
    assert response.status_code == 403 and "token" not in response.json()


def test_wrong_token_passwords_lock_signing(make_user, settings):
    version = in_review(make_user)
    signer = make_user("access", username="signer")
    for i in range(settings.AXES_FAILURE_LIMIT):
        token_attempt("signer", f"wrong-{i}")
    with pytest.raises(Exception, match="locked"):
        sign(signer, version, DEFAULT_PASSWORD)


def test_tokens_expire(make_user):
    make_user("brand", username="jdoe")
    token = token_attempt("jdoe", DEFAULT_PASSWORD).json()["token"]
    AuthToken.objects.update(expiry=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 401


def test_logout_revokes_the_token(make_user):
    make_user("brand", username="jdoe")
    token = token_attempt("jdoe", DEFAULT_PASSWORD).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/customers/").status_code == 401


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_password_change_and_deactivation_revoke_tokens(make_user, change):
    user = make_user("brand", username="jdoe")
    token = token_attempt("jdoe", DEFAULT_PASSWORD).json()["token"]
    if change == "password":
        user.set_password("a-new-long-passphrase-2026")
    else:
        user.is_active = False
    user.save()
    assert not AuthToken.objects.filter(user=user).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 401


def test_sessions_expire_after_the_idle_timeout(settings):
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.parametrize("password", ["x", "12345678901", "password123"])
def test_create_user_applies_the_password_validators(password):
    with pytest.raises(CommandError, match="password"):
        call_command(
            "create_user", "--username", "weak", "--full-name", "Weak One", "--role", "brand",
            stdin=io.StringIO(password + "\n"), stdout=io.StringIO(),
        )  # fmt: skip
    assert not User.objects.filter(username="weak").exists()


def test_createsuperuser_noinput_needs_only_username_and_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-passphrase-2026")
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    call_command("createsuperuser", interactive=False, stdout=io.StringIO())
    root = User.objects.get(username="root")
    assert root.is_superuser and root.has_role("admin", "field_lead")


def test_createsuperuser_noinput_applies_the_password_validators(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("createsuperuser", interactive=False, stdout=io.StringIO())
    assert not User.objects.filter(username="root").exists()
