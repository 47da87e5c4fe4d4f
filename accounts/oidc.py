"""The OpenID Connect client (docs/identity.md): Authlib's Django integration.

Authlib discovers the provider from ``{OIDC_ISSUER}/.well-known/openid-configuration``,
sends the authorization request (code flow, PKCE S256, state and nonce kept in
the session) and, on the way back, checks the state, exchanges the code, and
validates the ID token: its signature against the provider's published keys,
issuer, audience, expiry and nonce. Nothing here parses or verifies a JWT by
hand; ``complete`` only turns the library's failures into one ``SsoFailure``
with a sentence for the page and the audit trail.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from authlib.integrations.django_client.apps import DjangoOAuth2App
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from joserfc.errors import JoseError

CLIENT_NAME = "sso"


class SsoFailure(Exception):
    """A sign-in or re-authentication that did not succeed; ``reason`` says what failed."""

    def __init__(self, reason: str, *, code: str = "failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class VerifiedLogin:
    """An ID token the library validated, with the state it answered."""

    issuer: str
    subject: str
    claims: dict
    state: str


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def new_token() -> str:
    return secrets.token_urlsafe(32)


@functools.lru_cache(maxsize=4)
def _client_for(issuer: str, client_id: str, client_secret: str, scopes: str) -> DjangoOAuth2App:
    """One Authlib client per configuration (its discovery document and keys are cached)."""
    oauth = OAuth()
    return oauth.register(
        name=CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "timeout": settings.OIDC_TIMEOUT_SECONDS,
        },
    )


def client() -> DjangoOAuth2App:
    return _client_for(
        settings.OIDC_ISSUER,
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        settings.OIDC_SCOPES,
    )


def _metadata() -> dict:
    try:
        metadata = client().load_server_metadata()
    except (requests.RequestException, ValueError, TypeError) as exc:
        raise SsoFailure(
            "the identity provider did not answer (its discovery document could not be read)",
            code="provider_down",
        ) from exc
    missing = [
        name
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not metadata.get(name)
    ]
    if missing:
        raise SsoFailure(
            f"the identity provider's discovery document lacks {', '.join(missing)}",
            code="bad_discovery",
        )
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_ISSUER:
        raise SsoFailure(
            f"the identity provider calls itself {metadata.get('issuer')!r}, "
            f"not the configured issuer {settings.OIDC_ISSUER!r}",
            code="wrong_issuer",
        )
    return metadata


def redirect_to_provider(
    request: HttpRequest,
    *,
    redirect_uri: str,
    state: str | None = None,
    nonce: str | None = None,
    reauthenticate: bool = False,
) -> HttpResponseRedirect:
    """The authorization request. ``reauthenticate`` asks the provider for a fresh
    authentication (``prompt=login``, ``max_age=0``), as a signature needs."""
    _metadata()
    extra = {"prompt": "login", "max_age": 0} if reauthenticate else {}
    try:
        return client().authorize_redirect(
            request,
            redirect_uri,
            state=state or new_token(),
            nonce=nonce or new_token(),
            **extra,
        )
    except requests.RequestException as exc:
        raise SsoFailure("the identity provider did not answer", code="provider_down") from exc


def callback_state(request: HttpRequest) -> str:
    return (request.GET.get("state") or "")[:100]


def complete(request: HttpRequest) -> VerifiedLogin:
    """Validate the provider's answer on the callback; raise SsoFailure when anything fails."""
    error = request.GET.get("error")
    if error:
        description = request.GET.get("error_description") or ""
        code = "cancelled" if error == "access_denied" else "provider_error"
        raise SsoFailure(
            f"the identity provider answered {error}" + (f": {description}" if description else ""),
            code=code,
        )
    if not request.GET.get("code"):
        raise SsoFailure("the identity provider's answer carries no authorization code")
    state = callback_state(request)
    if not client().framework.get_state_data(request.session, state):
        raise SsoFailure(
            "state mismatch: this answer does not belong to a sign-in started in this browser "
            "(or it was already used)",
            code="state_mismatch",
        )
    metadata = _metadata()
    options = {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "values": [settings.OIDC_CLIENT_ID]},
        "exp": {"essential": True},
        "sub": {"essential": True},
        "nonce": {"essential": True},
    }
    try:
        token = client().authorize_access_token(request, claims_options=options, leeway=60)
    except requests.RequestException as exc:
        raise SsoFailure(
            "the identity provider did not answer the token request", code="provider_down"
        ) from exc
    except (AuthlibBaseError, JoseError) as exc:
        raise _failure(exc) from exc
    except (ValueError, KeyError, TypeError) as exc:
        # A malformed answer (token response, keys) the library could not read.
        raise SsoFailure(
            f"the identity provider's answer could not be read ({type(exc).__name__})",
            code="malformed_answer",
        ) from exc
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailure("the identity provider returned no ID token", code="no_id_token")
    return VerifiedLogin(
        issuer=str(claims["iss"]), subject=str(claims["sub"]), claims=dict(claims), state=state
    )


# What the library refused, in a sentence for the page and the audit trail.
_CLAIM_FAILURES = {
    "iss": ("wrong_issuer", "the ID token's issuer is not the configured provider"),
    "aud": ("wrong_audience", "the ID token was issued to another client (audience mismatch)"),
    "exp": ("expired", "the ID token has expired"),
    "iat": ("stale", "the ID token's issue time is not acceptable"),
    "nonce": (
        "nonce_mismatch",
        "the ID token does not answer this sign-in's nonce (replayed or forged)",
    ),
    "sub": ("invalid_token", "the ID token names no subject"),
}
_ERROR_FAILURES = {
    "mismatching_state": (
        "state_mismatch",
        "state mismatch: this answer does not belong to a sign-in started in this browser",
    ),
    "bad_signature": (
        "bad_signature",
        "the ID token's signature does not verify against the provider's published keys",
    ),
    "invalid_grant": (
        "invalid_grant",
        "the identity provider refused the authorization code (already used or expired)",
    ),
}


def _failure(exc: Exception) -> SsoFailure:
    claim = getattr(exc, "claim", "") or getattr(exc, "claim_name", "")
    error = getattr(exc, "error", "") or "failed"
    if claim in _CLAIM_FAILURES:
        code, reason = _CLAIM_FAILURES[claim]
    elif error in _ERROR_FAILURES:
        code, reason = _ERROR_FAILURES[error]
    else:
        description = getattr(exc, "description", "") or ""
        code = error
        reason = f"the identity provider's answer was refused: {error}" + (
            f" ({description})" if description else ""
        )
    return SsoFailure(reason, code=code)
