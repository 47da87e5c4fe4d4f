"""The audit trail's hash chain: how an event is digested, and how the chain is verified.

``hash = sha256(canonical_json(event fields) + prev_hash)``. The canonical JSON
sorts keys, uses compact separators and ISO-8601 UTC times with microseconds,
so the same row always hashes the same on SQLite and PostgreSQL
(docs/governance.md, "Audit trail").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .models import AuditEvent

GENESIS_HASH = "0" * 64


def jsonable(value: Any) -> Any:
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
