"""Password re-entry for electronic signatures (21 CFR Part 11 §11.200).

Shared by segment sign-off, asset status records and mapping decisions, so
every e-signature checks the password the same way and logs a failed attempt
the same way. A failed signature password counts against the account's lockout
together with failed logins and token requests (docs/governance.md, "Lockout").
"""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.errors import PermissionRefused

from .services import record_event

FAILED_ATTEMPT_ACTION = "signature.failed"
LOCKED_ACTION = "signature.locked"
# django-axes' record of a failed signature password, next to its records of failed
# logins and token requests (which carry the client's user agent).
SIGNATURE_ATTEMPT = "e-signature"


class PasswordMismatch(PermissionRefused):
    """The password re-entered for a signature is wrong (403: nothing is signed)."""

    code = "password_mismatch"


class SigningLocked(PermissionRefused):
    """Too many failed signature passwords within the cool-off (403: nothing is signed)."""

    code = "locked"


def verify_signing_password(
    *, user, password: str | None, object_type: str, object_id: str, attempted: dict
) -> None:
    """Raise PasswordMismatch unless ``password`` is the user's; log a failed attempt.

    Call it *outside* the transaction that makes the signed change: the failed
    attempt must be committed even though the request is refused. When called
    with no transaction open (API, pages, commands) ``record_event`` commits on
    its own before we raise. (Inside a caller's transaction the event shares
    that transaction's fate; no entry point of ours does that.)
    """
    check_signing_lock(user=user, object_type=object_type, object_id=object_id, attempted=attempted)
    if password and user.check_password(password):
        return
    record_failed_signature(
        user=user,
        object_type=object_type,
        object_id=object_id,
        attempted=attempted,
        reason="password does not match",
    )
    raise PasswordMismatch("password does not match", path="password")


def check_signing_lock(*, user, object_type: str, object_id: str, attempted: dict) -> None:
    """Raise SigningLocked (and audit it) while the account is locked by failed attempts."""
    failures = account_failures(username=user.username)
    if failures >= settings.AXES_FAILURE_LIMIT:
        # Locked like a login: even the right password signs nothing until the cool-off ends.
        record_event(
            actor=user,
            action=LOCKED_ACTION,
            object_type=object_type,
            object_id=object_id,
            after=attempted,
            reason=f"{failures} failed signature passwords; locked for a while",
        )
        raise SigningLocked(
            "too many failed passwords: signing is locked for a while", path="password"
        )


def record_failed_signature(
    *, user, object_type: str, object_id: str, attempted: dict, reason: str
) -> None:
    """A failed signature attempt (wrong password, failed or abandoned re-authentication):
    audited, and counted towards the account's lockout."""
    count_failed_signature(username=user.username)
    record_event(
        actor=user,
        action=FAILED_ATTEMPT_ACTION,
        object_type=object_type,
        object_id=object_id,
        after=attempted,
        reason=reason,
    )


def account_failures(*, username: str) -> int:
    """Failed passwords of the account within the cool-off: login page, API token, signatures.

    One count for all three, kept by django-axes, so repeated failures of any kind
    lock the account everywhere (docs/governance.md, "Integrity and access controls").
    """
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def count_failed_signature(*, username: str) -> None:
    """Add a failed signature password to the account's failures, as axes does for a login.

    Axes' own records need a request; a signature may come from a page, the API
    or a command, so its failures are one record per account marked ``e-signature``.
    """
    now = timezone.now()
    mine = AccessAttempt.objects.filter(username=username, user_agent=SIGNATURE_ATTEMPT)
    with transaction.atomic():
        # Failures older than the cool-off no longer count (axes drops its own likewise).
        mine.filter(attempt_time__lt=now - settings.AXES_COOLOFF_TIME).delete()
        if not mine.update(failures_since_start=F("failures_since_start") + 1, attempt_time=now):
            AccessAttempt.objects.create(
                username=username,
                user_agent=SIGNATURE_ATTEMPT,
                ip_address=None,
                http_accept="",
                path_info=SIGNATURE_ATTEMPT,
                get_data="",
                post_data="",
                failures_since_start=1,
            )


def team_label(team: str) -> str:
    """The team's name as printed in a signature's meaning."""
    return {"brand": "brand", "access": "market access", "medical": "medical affairs"}.get(
        team, team
    )
