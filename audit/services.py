"""Audit writes: the one ``record_event`` every state change goes through (docs/governance.md).

Concurrent writers are serialised while they read the chain's tail: on
PostgreSQL by a transaction-scoped advisory lock, on SQLite by its single
writer (transactions are IMMEDIATE, see settings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from .chain import GENESIS_HASH, event_digest, jsonable
from .models import AuditEvent

_ADVISORY_LOCK_KEY = 7_201_311  # any constant; names the audit chain's lock

T = TypeVar("T")


def record_event(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: Any,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to the audit trail, chained to the event before it.

    ``actor`` is a user or None (system: workers, schedules). Call it inside the
    transaction that makes the change, so the event and the change commit together.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        prev_hash = last or GENESIS_HASH
        occurred_at = timezone.now()
        username = getattr(actor, "username", "") or "" if actor is not None else "system"
        fields = {
            "occurred_at": occurred_at,
            "actor_username": username,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": jsonable(before),
            "after": jsonable(after),
            "reason": reason or "",
        }
        digest = event_digest(**fields, prev_hash=prev_hash)
        return AuditEvent.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            prev_hash=prev_hash,
            hash=digest,
            **fields,
        )


def record_change(
    *,
    actor,
    action: str,
    obj: T,
    snapshot: Callable[[T], dict],
    change: Callable[[T], T | None],
    object_type: str,
    object_id: Any,
    reason: str = "",
) -> T:
    """Snapshot ``obj``, apply ``change``, snapshot again and record both in one event.

    The one shape of "before, change, after, audit" every service shares, so no
    service can forget a field in the before or the after: both come from the
    same ``snapshot``. ``change`` may return a fresh object (after a
    ``refresh_from_db`` or a re-read); otherwise ``obj`` is snapshotted again.
    Call it inside the service's transaction.
    """
    before = snapshot(obj)
    changed = change(obj)
    if changed is not None:
        obj = changed
    record_event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=snapshot(obj),
        reason=reason,
    )
    return obj
