"""The audit trail's hash chain: how an event is digested, and how the chain is verified.

Two chain versions (docs/governance.md, "Audit trail"):

* version 1 (events written before the key was introduced):
  ``hash = sha256(canonical_json(event fields + prev_hash))``;
* version 2 (every event since): ``hash = HMAC-SHA256(AUDIT_HMAC_KEY,
  canonical_json(event fields + prev_hash + seq + version))``, where ``seq`` is
  the event's position in the chain. The key comes from the environment and is
  never stored in the database, so a chain recomputed without it fails.

Version 1 events are accepted only before the first version 2 event (the
cut-over), so nobody can append or rewrite events as unkeyed. The canonical
JSON sorts keys, uses compact separators and ISO-8601 UTC times with
microseconds, so the same row hashes the same on SQLite and PostgreSQL.
The chain's head and length are also anchored outside the database
(``audit.anchor``); ``verify_audit_chain`` checks the table against the anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from .anchor import Anchor, load_anchor
from .models import AuditEvent

GENESIS_HASH = "0" * 64
LEGACY_VERSION = 1
KEYED_VERSION = 2


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _body(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _fields(
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
) -> dict[str, Any]:
    return {
        "occurred_at": _iso(occurred_at),
        "actor": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }


def event_digest(**fields: Any) -> str:
    """Version 1 (unkeyed) SHA-256 of an event's canonical JSON including its predecessor's hash."""
    return hashlib.sha256(_body(_fields(**fields))).hexdigest()


def audit_key() -> bytes:
    """The chain key from settings (AUDIT_HMAC_KEY, read from the environment)."""
    return settings.AUDIT_HMAC_KEY.encode("utf-8")


def keyed_digest(*, seq: int, **fields: Any) -> str:
    """Version 2: HMAC-SHA256 with AUDIT_HMAC_KEY over the event, its position and version."""
    body = _fields(**fields) | {"seq": seq, "chain_version": KEYED_VERSION}
    return hmac.new(audit_key(), _body(body), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditVerification:
    intact: bool
    count: int
    first_broken_id: int | None = None
    problem: str = ""
    # The anchor outside the database: what it records, and how far it lags the table.
    anchor: Anchor | None = None
    anchor_lag: int = 0


_COLUMNS = (
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
    "seq",
    "chain_version",
)


def _check_row(
    row: dict, *, position: int, prev_hash: str, keyed_seen: bool, keyed_from: int | None
) -> str:
    """'' when the row is sound at ``position``; otherwise what is wrong with it."""
    if row["prev_hash"] != prev_hash:
        return "does not follow its predecessor (an event before it was deleted or altered)"
    fields = {k: row[k] for k in _COLUMNS[1:10]}
    if row["chain_version"] == KEYED_VERSION:
        if row["seq"] != position:
            return f"is at position {position} but records position {row['seq']}"
        if not hmac.compare_digest(keyed_digest(seq=position, **fields), row["hash"]):
            return (
                "content does not match its keyed hash "
                "(altered, or the chain was recomputed without the key)"
            )
        return ""
    if (
        keyed_seen
        or row["chain_version"] != LEGACY_VERSION
        or (keyed_from is not None and position >= keyed_from)
    ):
        return "is unkeyed after the keyed cut-over (the chain was rewritten without the key)"
    if event_digest(**fields) != row["hash"]:
        return "content does not match its hash"
    return ""


def verify_audit_chain() -> AuditVerification:
    """Walk the chain in id order, then compare its head and length with the anchor.

    Names the first event that was altered or follows a gap; or that the newest
    events or the whole log are missing against the anchor; or that the anchor
    is unreadable, from another database, or missing while the table holds
    events (an empty table without an anchor is a first run: intact, 0 events).
    """
    state = load_anchor()
    anchor = state.anchor
    prev_hash = GENESIS_HASH
    count = 0
    keyed_seen = False
    anchored_seen = anchor is None
    events = AuditEvent.objects.order_by("id").values(*_COLUMNS)
    for row in events.iterator(chunk_size=2000):
        count += 1
        problem = _check_row(
            row,
            position=count,
            prev_hash=prev_hash,
            keyed_seen=keyed_seen,
            keyed_from=anchor.keyed_from if anchor else None,
        )
        if problem:
            return AuditVerification(False, count, row["id"], problem, anchor)
        keyed_seen = keyed_seen or row["chain_version"] == KEYED_VERSION
        if anchor is not None and count == anchor.count:
            if row["hash"] != anchor.head_hash or row["id"] != anchor.head_id:
                return AuditVerification(
                    False,
                    count,
                    row["id"],
                    f"differs from the anchor's chain head (anchor: event {anchor.head_id}, "
                    f"{anchor.count} events): the chain was rewritten",
                    anchor,
                )
            anchored_seen = True
        prev_hash = row["hash"]
    if not anchored_seen:
        if count == 0:
            problem = (
                f"the whole log is missing: the table is empty but the anchor records "
                f"{anchor.count} events up to event {anchor.head_id}"
            )
        else:
            problem = (
                f"the newest events are missing: the table ends after {count} events but the "
                f"anchor records {anchor.count} events up to event {anchor.head_id}"
            )
        return AuditVerification(False, count, None, problem, anchor)
    if state.problem:  # the chain itself holds; the anchor cannot vouch for it
        return AuditVerification(False, count, None, state.problem)
    if anchor is None and count:
        problem = (
            f"the anchor {state.path} is missing: the table's {count} events cannot be "
            "checked against it (restore the anchor from its backup)"
        )
        return AuditVerification(False, count, None, problem)
    lag = count - (anchor.count if anchor else 0)
    return AuditVerification(True, count, anchor=anchor, anchor_lag=lag)
