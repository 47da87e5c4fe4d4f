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

from .anchor import anchor_on_commit
from .chain import GENESIS_HASH, KEYED_VERSION, jsonable, keyed_digest
from .models import AuditEvent

_ADVISORY_LOCK_KEY = 7_201_311  # any constant; names the audit chain's lock

T = TypeVar("T")


def _keyed_from(seq: int) -> int:
    """The position of the chain's first keyed event (the cut-over), for the anchor."""
    first = (
        AuditEvent.objects.filter(chain_version=KEYED_VERSION)
        .order_by("id")
        .values_list("seq", flat=True)
        .first()
    )
    return first or seq


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
        last = AuditEvent.objects.order_by("-id").values("hash", "seq", "chain_version").first()
        prev_hash = last["hash"] if last else GENESIS_HASH
        if last and last["chain_version"] == KEYED_VERSION:
            seq = last["seq"] + 1
        else:
            # The first keyed event (the cut-over after unkeyed ones, or the genesis).
            seq = AuditEvent.objects.count() + 1
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
        digest = keyed_digest(**fields, prev_hash=prev_hash, seq=seq)
        event = AuditEvent.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            prev_hash=prev_hash,
            hash=digest,
            seq=seq,
            chain_version=KEYED_VERSION,
            **fields,
        )
        anchor_on_commit(count=seq, head_id=event.pk, head_hash=digest, keyed_from=_keyed_from(seq))
        return event


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
