"""Single sign-on writes (docs/identity.md): who an ID token is, what roles it grants.

* ``sso_sign_in`` finds or creates the user by (issuer, ``sub``), takes name and
  email from the claims, **replaces** roles and territories from the claims and
  audits the sign-in and any change of roles; a user whose claims carry no
  known role is refused and loses sessions and API tokens.
* ``record_sso_failure`` audits a sign-in that did not succeed.
* ``local_sign_in_allowed`` is the ``LOCAL_LOGIN`` rule for the login page and
  the token endpoint; ``record_break_glass`` audits an admin's local sign-in
  while local sign-in is off.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from audit.services import record_event
from core.errors import PermissionRefused

from .models import OidcIdentity, Role, User
from .oidc import VerifiedLogin
from .services import assign_roles_and_territories


class NoKnownRole(PermissionRefused):
    """The provider's claims grant no role of this product: refused (403)."""

    code = "no_role"

    def __init__(self, message: str, *, claimed: list[str]) -> None:
        super().__init__(message, path=settings.OIDC_ROLES_CLAIM)
        self.claimed = claimed


class AccountDeactivated(PermissionRefused):
    code = "inactive"


def claim_values(claims: dict, name: str) -> list[str]:
    """A claim as a list of strings: a JSON list, or one space- or comma-separated string."""
    value = claims.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable = value.replace(",", " ").split()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return []
    return [str(v).strip() for v in items if isinstance(v, str | int) and str(v).strip()]


def roles_from_claims(claims: dict) -> tuple[list[str], list[str]]:
    """(known roles, every value claimed): values outside the role vocabulary are ignored."""
    claimed = claim_values(claims, settings.OIDC_ROLES_CLAIM)
    return sorted({v for v in claimed if v in Role.values}), claimed


def _username_for(login: VerifiedLogin) -> str:
    """A readable username that never takes over an existing account of another person."""
    claims = login.claims
    base = str(claims.get("preferred_username") or claims.get("email") or login.subject)[:120]
    if not User.objects.filter(username=base).exists():
        return base
    digest = hashlib.sha256(f"{login.issuer} {login.subject}".encode()).hexdigest()[:12]
    return f"{base[:120]}-{digest}"


def _full_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(
        str(claims[k]) for k in ("given_name", "family_name") if claims.get(k)
    )
    return str(name or "").strip()[:200]


def _grants(user: User) -> dict:
    return {
        "roles": sorted(user.role_assignments.values_list("role", flat=True)),
        "territories": sorted(user.territories.values_list("code", flat=True)),
    }


def end_sessions_and_tokens(*, user: User) -> None:
    """Every session and API token of ``user`` stops working.

    An SSO user's password is unusable; giving it a new unusable value changes
    the session hash Django checks on every request (so every session ends),
    and the password change revokes every API token (accounts.receivers).
    """
    user.set_unusable_password()
    user.save(update_fields=["password"])
    AuthToken.objects.filter(user=user).delete()


def _replace_grants(*, user: User, roles: list[str], territories: list[str], issuer: str) -> None:
    before = _grants(user)
    assign_roles_and_territories(
        user=user,
        roles=roles,
        territories=territories,
        reason=f"claimed for {user.username} by {issuer}",
    )
    after = _grants(user)
    if before != after:
        record_event(
            actor=user,
            action="user.roles_changed",
            object_type="user",
            object_id=user.username,
            before=before,
            after=after,
            reason=f"replaced from the identity provider's claims at sign-in ({issuer})",
        )


def sso_sign_in(*, login: VerifiedLogin, address: str = "") -> User:
    """The user this validated ID token belongs to, with roles and territories from its claims.

    Raises NoKnownRole (after removing the user's roles and ending their
    sessions and tokens) when the claims grant no known role, and
    AccountDeactivated for a user deactivated in this product.
    """
    claims = login.claims
    roles, claimed = roles_from_claims(claims)
    territories = sorted(set(claim_values(claims, settings.OIDC_TERRITORIES_CLAIM)))
    with transaction.atomic():
        identity = (
            OidcIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=login.issuer, subject=login.subject)
            .first()
        )
        user = identity.user if identity else None
        if user is not None and not user.is_active:
            raise AccountDeactivated(
                f"the account {user.username} is deactivated in this product", path="user"
            )
        if not roles:
            # Committed before the refusal is raised: the user loses roles, sessions, tokens.
            if user is not None:
                _replace_grants(user=user, roles=[], territories=[], issuer=login.issuer)
                end_sessions_and_tokens(user=user)
    if not roles:
        raise NoKnownRole(
            "your identity provider account carries no role of this product "
            f"(claim {settings.OIDC_ROLES_CLAIM!r}: {', '.join(claimed) or 'empty'}; "
            f"known roles: {', '.join(Role.values)})",
            claimed=claimed,
        )
    with transaction.atomic():
        if user is None:
            user = User(username=_username_for(login))
            user.set_unusable_password()
            created = True
        else:
            created = False
        user.full_name = _full_name(claims) or user.full_name
        user.email = str(claims.get("email") or user.email or "")[:254]
        user.last_login = timezone.now()
        user.save()
        if created:
            OidcIdentity.objects.create(user=user, issuer=login.issuer, subject=login.subject)
            record_event(
                actor=None,
                action="user.created",
                object_type="user",
                object_id=user.username,
                after={
                    "username": user.username,
                    "full_name": user.full_name,
                    "issuer": login.issuer,
                    "subject": login.subject,
                },
                reason="first sign-in through single sign-on",
            )
        OidcIdentity.objects.filter(user=user).update(last_sign_in_at=timezone.now())
        _replace_grants(user=user, roles=roles, territories=territories, issuer=login.issuer)
        record_event(
            actor=user,
            action="auth.sso_signed_in",
            object_type="user",
            object_id=user.username,
            after={
                "issuer": login.issuer,
                "subject": login.subject,
                "roles": roles,
                "territories": territories,
                "address": address,
            },
        )
    return user


def record_sso_failure(
    *, reason: str, code: str, issuer: str = "", subject: str = "", user=None, address: str = ""
) -> None:
    """Audit a sign-in through the provider that did not succeed (no session was made)."""
    record_event(
        actor=user,
        action="auth.sso_failed",
        object_type="user",
        object_id=(user.username if user else subject)[:150],
        after={
            "issuer": issuer or settings.OIDC_ISSUER,
            "subject": subject,
            "failure": code,
            "address": address,
        },
        reason=reason,
    )


def is_sso_user(user) -> bool:
    return bool(getattr(user, "pk", None)) and OidcIdentity.objects.filter(user=user).exists()


def local_sign_in_allowed(user: User) -> bool:
    """``LOCAL_LOGIN``: on, any local account; off, admin-role local accounts only
    (break-glass). An SSO user never signs in with a local password."""
    if is_sso_user(user):
        return False
    return settings.LOCAL_LOGIN or user.has_role(Role.ADMIN)


def is_break_glass(user: User) -> bool:
    """A local administrator's password sign-in while local sign-in is off."""
    return not settings.LOCAL_LOGIN and user.has_role(Role.ADMIN) and not is_sso_user(user)


def record_break_glass(*, user: User, via: str, address: str = "") -> None:
    record_event(
        actor=user,
        action="auth.break_glass",
        object_type="user",
        object_id=user.username,
        after={"via": via, "address": address},
        reason="local administrator sign-in while local sign-in is off",
    )
