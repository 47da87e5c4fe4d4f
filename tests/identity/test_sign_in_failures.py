"""A sign-in that fails says what failed, is audited, never makes a session, never a 500
(docs/identity.md, "When sign-in fails")."""

from __future__ import annotations

import time

import pytest

from accounts import oidc
from audit.models import AuditEvent
from tests.identity.provider import local_path, provider_answer, set_claims

pytestmark = pytest.mark.django_db


def _start(client, sso, sub="mallory-sub"):
    set_claims(sso, sub, groups=["brand"])
    start = client.get("/accounts/sso/login/")
    return provider_answer(start["Location"], sub)


def _assert_failed(response, code: str, words: str, status: int = 400):
    """A page that says what failed (``words``), no session, an audited failed sign-in."""
    assert response.status_code == status, response.content[:300]
    html = response.content.decode()
    assert f'data-failure="{code}"' in html
    alert = html.split(f'data-failure="{code}">')[1].split("</p>")[0]
    assert words in alert, alert
    assert "Nobody was signed in" in html
    assert "_auth_user_id" not in response.wsgi_request.session
    event = AuditEvent.objects.filter(action="auth.sso_failed").last()
    assert event is not None and event.after["failure"] == code
    return event


def test_state_mismatch(client, sso):
    callback = _start(client, sso).replace("state=", "state=forged")
    _assert_failed(client.get(local_path(callback)), "state_mismatch", "State mismatch")


def test_a_replayed_answer_is_refused(client, sso):
    callback = local_path(_start(client, sso))
    assert client.get(callback).status_code == 302
    client.logout()
    _assert_failed(client.get(callback), "state_mismatch", "already used")


def test_nonce_mismatch(client, sso):
    callback = _start(client, sso)
    key = next(k for k in client.session.keys() if k.startswith("_state_sso_"))
    session = client.session
    session[key]["data"]["nonce"] = "another-sign-in"
    session.save()
    _assert_failed(client.get(local_path(callback)), "nonce_mismatch", "nonce (replayed or forged)")


def test_wrong_issuer(client, sso, monkeypatch):
    callback = _start(client, sso)
    real = oidc.client().load_server_metadata()
    monkeypatch.setattr(oidc, "_metadata", lambda: {**real, "issuer": "https://idp.example"})
    _assert_failed(
        client.get(local_path(callback)), "wrong_issuer", "issuer is not the configured provider"
    )


def test_wrong_audience(client, sso, settings, monkeypatch):
    callback = _start(client, sso)
    registered = oidc.client()
    monkeypatch.setattr(oidc, "client", lambda: registered)
    settings.OIDC_CLIENT_ID = "another-application"
    _assert_failed(client.get(local_path(callback)), "wrong_audience", "audience mismatch")


def test_expired_id_token(client, sso, monkeypatch):
    import joserfc._rfc7519.claims as registry

    callback = _start(client, sso)

    class Later:
        @staticmethod
        def time():
            return time.time() + 2 * 3600

    monkeypatch.setattr(registry, "time", Later)
    _assert_failed(client.get(local_path(callback)), "expired", "The ID token has expired")


def test_cancelled_at_the_provider(client, sso):
    start = client.get("/accounts/sso/login/")
    callback = provider_answer(start["Location"], None, deny=True)
    _assert_failed(client.get(local_path(callback)), "cancelled", "answered access_denied")


def test_provider_down(client, sso, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    response = client.get("/accounts/sso/login/")
    event = _assert_failed(response, "provider_down", "did not answer", status=502)
    assert event.after["issuer"] == "http://127.0.0.1:9"
    assert b"did not answer" in response.content


def test_a_callback_without_code(client, sso):
    _assert_failed(
        client.get("/accounts/sso/callback/?state=x"), "failed", "carries no authorization code"
    )


def test_a_signature_that_does_not_verify_against_the_providers_keys(client, sso, monkeypatch):
    from joserfc.jwk import RSAKey

    callback = _start(client, sso)
    registered = oidc.client()
    published = registered.fetch_jwk_set()["keys"][0]
    impostor = RSAKey.generate_key(2048, parameters={"kid": published.get("kid", "")})
    monkeypatch.setitem(
        registered.server_metadata, "jwks", {"keys": [impostor.as_dict(private=False)]}
    )
    _assert_failed(
        client.get(local_path(callback)),
        "bad_signature",
        "signature does not verify against the provider",
    )
