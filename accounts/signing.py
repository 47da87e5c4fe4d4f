"""Electronic signatures under single sign-on (21 CFR 11.200; docs/identity.md).

A local account signs by re-entering its password (``audit.signing``). An SSO
account has no password: the page sends it back to the provider with
``prompt=login`` and ``max_age=0``, and the signature is recorded only when the
ID token that comes back

* was validated by the OIDC library (signature, issuer, audience, expiry, nonce),
* answers *this* signing request's nonce (the request is kept server-side,
  keyed by the authorization request's ``state``, used once),
* belongs to the same user (same issuer and ``sub``),
* was issued, or its ``auth_time`` lies, within the last 5 minutes.

A failed, refused or abandoned re-authentication is a failed signature
attempt, audited and counted like a wrong password.

Services call ``verify_signer``: the password path for local accounts, a
``Reauthentication`` for SSO accounts (made only by the callback below). A
service refusing an SSO user without one raises ``ReauthenticationRequired``;
the page catches it and starts the re-authentication, the API answers 400.
Higher floors register what completing a signing request does
(``register_signing_purpose``) in their ``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from audit.signing import check_signing_lock, record_failed_signature, verify_signing_password
from core.errors import DomainError, ValidationFailed

from . import oidc
from .models import OidcIdentity, SigningRequest

PASSWORD = "password"
OIDC = "oidc"
# The state of the signing request this browser session started last: a provider
# that answers an error without ``state`` still closes it as a failed attempt.
SESSION_KEY = "signing_state"


@dataclass(frozen=True)
class Reauthentication:
    """A validated re-authentication at the provider for one signing request."""

    issuer: str
    subject: str
    authenticated_at: dt.datetime
    signing_request_id: int


@dataclass(frozen=True)
class SignerMethod:
    """How the signer was authenticated, as the signature record keeps it."""

    method: str
    issuer: str = ""


class ReauthenticationRequired(ValidationFailed):
    """An SSO account signs by re-authenticating at the provider, not with a password (400)."""

    code = "reauthentication_required"


# purpose -> complete(user=, payload=, reauth=) -> message shown after signing
_PURPOSES: dict[str, Callable[..., str]] = {}


def register_signing_purpose(purpose: str, complete: Callable[..., str]) -> None:
    _PURPOSES[purpose] = complete


def signs_by_reauthentication(user) -> bool:
    """True for an SSO account: it signs through its provider, never with a password."""
    return bool(getattr(user, "pk", None)) and OidcIdentity.objects.filter(user=user).exists()


def verify_signer(
    *,
    user,
    password: str | None,
    reauth: Reauthentication | None = None,
    object_type: str,
    object_id: str,
    attempted: dict,
) -> SignerMethod:
    """Check the signer's credential for this signature; answer how they were authenticated.

    Call it outside the transaction that records the signature, like
    ``verify_signing_password`` (a failed attempt must commit).
    """
    identity = OidcIdentity.objects.filter(user=user).first() if user.pk else None
    if identity is None:
        verify_signing_password(
            user=user,
            password=password,
            object_type=object_type,
            object_id=object_id,
            attempted=attempted,
        )
        return SignerMethod(PASSWORD)
    if reauth is None:
        raise ReauthenticationRequired(
            "this account signs in through single sign-on and has no password: sign in the "
            "browser, where signing sends you to your identity provider to re-authenticate",
            path="password",
        )
    fresh_since = _now() - settings.OIDC_REAUTH_MAX_AGE
    if (reauth.issuer, reauth.subject) != (
        identity.issuer,
        identity.subject,
    ) or reauth.authenticated_at < fresh_since:
        record_failed_signature(
            user=user,
            object_type=object_type,
            object_id=object_id,
            attempted={**attempted, "method": OIDC},
            reason="re-authentication is not this user's, or older than 5 minutes",
        )
        raise ValidationFailed("the re-authentication does not hold", path="reauthentication")
    return SignerMethod(OIDC, reauth.issuer)


# --------------------------------------------------------------------------- the page flow


def _attempted(pending: SigningRequest) -> dict:
    return {**pending.payload, "method": OIDC, "signing_request": pending.pk}


def _fail(pending: SigningRequest, *, outcome: str, reason: str) -> None:
    """Close a signing request that did not sign, as a failed signature attempt."""
    updated = SigningRequest.objects.filter(pk=pending.pk, outcome="").update(
        outcome=outcome, completed_at=timezone.now()
    )
    if updated or outcome == SigningRequest.Outcome.FAILED:
        record_failed_signature(
            user=pending.user,
            object_type=pending.object_type,
            object_id=pending.object_id,
            attempted=_attempted(pending),
            reason=reason,
        )


def close_abandoned(*, user=None) -> int:
    """Signing requests older than 5 minutes that never came back: failed attempts."""
    stale = SigningRequest.objects.filter(
        outcome="", created_at__lt=timezone.now() - settings.OIDC_REAUTH_MAX_AGE
    ).select_related("user")
    if user is not None:
        stale = stale.filter(user=user)
    count = 0
    for pending in stale:
        _fail(
            pending,
            outcome=SigningRequest.Outcome.ABANDONED,
            reason="re-authentication at the identity provider abandoned (no answer in 5 minutes)",
        )
        count += 1
    return count


def begin_signing(
    request: HttpRequest,
    *,
    purpose: str,
    object_type: str,
    object_id: str,
    payload: dict,
    return_url: str,
) -> HttpResponse:
    """Keep the signing request server-side and send the signer to the provider to
    re-authenticate (``prompt=login``, ``max_age=0``), bound to it by state and nonce."""
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown signing purpose {purpose!r}")
    user = request.user
    close_abandoned(user=user)
    check_signing_lock(
        user=user, object_type=object_type, object_id=str(object_id), attempted=payload
    )
    pending = SigningRequest.objects.create(
        state=oidc.new_token(),
        nonce=oidc.new_token(),
        user=user,
        purpose=purpose,
        object_type=object_type,
        object_id=str(object_id),
        payload=payload,
        return_url=return_url,
        created_at=timezone.now(),
    )
    request.session[SESSION_KEY] = pending.state
    try:
        return oidc.redirect_to_provider(
            request,
            redirect_uri=request.build_absolute_uri(reverse("accounts:sso_callback")),
            state=pending.state,
            nonce=pending.nonce,
            reauthenticate=True,
        )
    except oidc.SsoFailure as failure:
        _fail(pending, outcome=SigningRequest.Outcome.FAILED, reason=failure.reason)
        return _failed_page(request, pending, failure)


def pending_request(request: HttpRequest) -> SigningRequest | None:
    """The signing request this provider answer is for, if it is one."""
    state = oidc.callback_state(request)
    if not state and request.GET.get("error"):
        state = request.session.get(SESSION_KEY, "")
    if not state:
        return None
    return SigningRequest.objects.select_related("user").filter(state=state).first()


def _failed_page(
    request: HttpRequest, pending: SigningRequest, failure: oidc.SsoFailure
) -> HttpResponse:
    return render(
        request,
        "accounts/signing_failed.html",
        {"reason": failure.reason, "code": failure.code, "return_url": pending.return_url},
        status=502 if failure.code == "provider_down" else 400,
    )


def _now() -> dt.datetime:
    return timezone.now()


def _authenticated_at(claims: dict) -> dt.datetime | None:
    value = claims.get("auth_time", claims.get("iat"))
    if not isinstance(value, int | float):
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.UTC)


def _check_reauthentication(pending: SigningRequest, login: oidc.VerifiedLogin) -> Reauthentication:
    """This signing request's own checks, after the library's (raise SsoFailure)."""
    if login.claims.get("nonce") != pending.nonce:
        raise oidc.SsoFailure(
            "the ID token does not answer this signing request's nonce", code="nonce_mismatch"
        )
    identity = OidcIdentity.objects.filter(user=pending.user).first()
    if identity is None or (identity.issuer, identity.subject) != (login.issuer, login.subject):
        raise oidc.SsoFailure(
            "the re-authentication is another person's: the signer must re-authenticate "
            "as themselves",
            code="other_user",
        )
    now = _now()
    at = _authenticated_at(login.claims)
    limit = settings.OIDC_REAUTH_MAX_AGE
    if at is None or at < now - limit or at > now + dt.timedelta(seconds=60):
        raise oidc.SsoFailure(
            "the re-authentication is stale: the ID token was not issued within the last 5 minutes",
            code="stale",
        )
    if pending.created_at < now - limit:
        raise oidc.SsoFailure(
            "the signing request is older than 5 minutes; sign again", code="stale"
        )
    return Reauthentication(
        issuer=login.issuer,
        subject=login.subject,
        authenticated_at=at,
        signing_request_id=pending.pk,
    )


def complete_signing_request(request: HttpRequest, pending: SigningRequest) -> HttpResponse:
    """The provider's answer to a re-authentication: sign, or record the failed attempt."""
    request.session.pop(SESSION_KEY, None)
    if not request.user.is_authenticated or request.user.pk != pending.user_id:
        failure = oidc.SsoFailure(
            "this re-authentication belongs to a signing request of another session",
            code="other_session",
        )
        _fail(pending, outcome=SigningRequest.Outcome.FAILED, reason=failure.reason)
        return _failed_page(request, pending, failure)
    if pending.outcome:
        failure = oidc.SsoFailure(
            "this signing request was already answered (a replayed answer signs nothing)",
            code="replayed",
        )
        _fail(pending, outcome=SigningRequest.Outcome.FAILED, reason=failure.reason)
        return _failed_page(request, pending, failure)
    try:
        reauth = _check_reauthentication(pending, oidc.complete(request))
    except oidc.SsoFailure as failure:
        outcome = (
            SigningRequest.Outcome.ABANDONED
            if failure.code == "cancelled"
            else SigningRequest.Outcome.FAILED
        )
        _fail(pending, outcome=outcome, reason=f"re-authentication failed: {failure.reason}")
        return _failed_page(request, pending, failure)
    with transaction.atomic():
        # Used once: a second answer for the same request finds it closed.
        claimed = SigningRequest.objects.filter(pk=pending.pk, outcome="").update(
            outcome=SigningRequest.Outcome.SIGNED, completed_at=timezone.now()
        )
    if not claimed:
        failure = oidc.SsoFailure("this signing request was already answered", code="replayed")
        return _failed_page(request, pending, failure)
    try:
        message = _PURPOSES[pending.purpose](
            user=request.user, payload=pending.payload, reauth=reauth
        )
    except DomainError as exc:
        SigningRequest.objects.filter(pk=pending.pk).update(outcome=SigningRequest.Outcome.REFUSED)
        for error in exc.errors:
            messages.error(request, str(error.message))
        return redirect(pending.return_url)
    messages.success(request, message)
    return redirect(pending.return_url)
