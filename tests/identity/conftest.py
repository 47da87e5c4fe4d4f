"""Fixtures for single sign-on: the provider (session-wide), settings that turn SSO on."""

from __future__ import annotations

import pytest

from tests.identity.provider import local_path, provider_answer, running_provider, set_claims

CLIENT_ID = "segmentation-governance"
CLIENT_SECRET = "test-secret"


@pytest.fixture(scope="session")
def oidc_issuer():
    with running_provider() as issuer:
        yield issuer


@pytest.fixture
def sso(settings, oidc_issuer):
    """SSO on against the test provider (local sign-in off, as by default with SSO on)."""
    settings.OIDC_ISSUER = oidc_issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.LOCAL_LOGIN = False
    return oidc_issuer


@pytest.fixture
def sign_in(client, sso):
    """Sign ``client`` in through the provider as ``sub`` with ``claims``; the final response."""

    def _sign_in(sub: str, *, deny: bool = False, client=client, **claims):
        if claims:
            set_claims(sso, sub, **claims)
        start = client.get("/accounts/sso/login/")
        assert start.status_code == 302, start.content[:500]
        callback = provider_answer(start["Location"], sub, deny=deny)
        return client.get(local_path(callback))

    return _sign_in
