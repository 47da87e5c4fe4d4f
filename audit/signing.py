"""Password re-entry for electronic signatures (21 CFR Part 11 §11.200).

Shared by segment sign-off, asset status records and mapping decisions, so
every e-signature checks the password the same way and logs a failed attempt
the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from core.errors import PermissionRefused

from .models import AuditEvent
from .services import record_event

FAILED_ATTEMPT_ACTION = "signature.failed"
LOCKED_ACTION = "signature.locked"


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
    window_start = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AuditEvent.objects.filter(
        action=FAILED_ATTEMPT_ACTION, actor_username=user.username, occurred_at__gte=window_start
    ).count()
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
    if password and user.check_password(password):
        return
    record_event(
        actor=user,
        action=FAILED_ATTEMPT_ACTION,
        object_type=object_type,
        object_id=object_id,
        after=attempted,
        reason="password does not match",
    )
    raise PasswordMismatch("password does not match", path="password")


def team_label(team: str) -> str:
    """The team's name as printed in a signature's meaning."""
    return {"brand": "brand", "access": "market access", "medical": "medical affairs"}.get(
        team, team
    )
