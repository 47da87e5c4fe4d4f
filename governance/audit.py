"""Audit trail: the one ``record_event`` every state change goes through, and its verifier.

Hash chain: ``hash = sha256(canonical_json(event fields) + prev_hash)``. The
canonical JSON sorts keys, uses compact separators and ISO-8601 UTC times with
microseconds, so the same row always hashes the same on SQLite and PostgreSQL.
Concurrent writers are serialised while they read the chain's tail: on
PostgreSQL by a transaction-scoped advisory lock, on SQLite by its single
writer (transactions are IMMEDIATE, see settings).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 7_201_311  # any constant; names the audit chain's lock


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_digest(
    *,
    occurred_at: datetime,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
    reason: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an event's canonical JSON including its predecessor's hash."""
    body = json.dumps(
        {
            "occurred_at": _iso(occurred_at),
            "actor": actor_username,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": before,
            "after": after,
            "reason": reason,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
            "before": _jsonable(before),
            "after": _jsonable(after),
            "reason": reason or "",
        }
        digest = event_digest(**fields, prev_hash=prev_hash)
        return AuditEvent.objects.create(
            actor=actor if getattr(actor, "pk", None) else None,
            prev_hash=prev_hash,
            hash=digest,
            **fields,
        )


@dataclass(frozen=True)
class AuditVerification:
    intact: bool
    count: int
    first_broken_id: int | None = None
    problem: str = ""


def verify_audit_chain() -> AuditVerification:
    """Walk the chain in id order; name the first event that was altered or follows a gap."""
    prev_hash = GENESIS_HASH
    count = 0
    events = AuditEvent.objects.order_by("id").values(
        "id",
        "occurred_at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "reason",
        "prev_hash",
        "hash",
    )
    for row in events.iterator(chunk_size=2000):
        count += 1
        if row["prev_hash"] != prev_hash:
            return AuditVerification(
                False, count, row["id"], "does not follow its predecessor (deleted or altered)"
            )
        expected = event_digest(
            occurred_at=row["occurred_at"],
            actor_username=row["actor_username"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            before=row["before"],
            after=row["after"],
            reason=row["reason"],
            prev_hash=row["prev_hash"],
        )
        if expected != row["hash"]:
            return AuditVerification(False, count, row["id"], "content does not match its hash")
        prev_hash = row["hash"]
    return AuditVerification(True, count)
