"""The audit chain's anchor outside the database (docs/governance.md, "Audit trail").

After every commit that adds an audit event, the chain's head (event id and
hash) and length are appended as one JSON line to a file in
``AUDIT_ANCHOR_DIR`` (one file per database), opened in append mode and
fsynced. Each line carries an HMAC with the audit key, so a forged line is
ignored. Someone who empties the table, or deletes its newest events, cannot
also rewind this file without access to the machine it lives on (mount it on
separate storage, or make it append-only with ``chattr +a``: docs/governance.md,
"Operations").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

_TAIL_BYTES = 64 * 1024  # concurrent commits may append out of order: read the last lines


@dataclass(frozen=True)
class Anchor:
    count: int
    head_id: int
    head_hash: str
    # The position of the first keyed event (the cut-over): no unkeyed event may sit at or after it.
    keyed_from: int = 1


def _mac(count: int, head_id: int, head_hash: str, keyed_from: int) -> str:
    message = f"{count}:{head_id}:{head_hash}:{keyed_from}".encode()
    return hmac.new(settings.AUDIT_HMAC_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()


def anchor_path() -> Path:
    """The anchor file of the current database."""
    db = connection.settings_dict
    label = f"{connection.vendor}-{db.get('HOST') or ''}-{db.get('PORT') or ''}-{db['NAME']}"
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")[:150]
    return Path(settings.AUDIT_ANCHOR_DIR) / f"{label}.jsonl"


def write_anchor(*, count: int, head_id: int, head_hash: str, keyed_from: int) -> None:
    """Append one anchor line (append mode, fsynced)."""
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "count": count,
            "head_id": head_id,
            "head_hash": head_hash,
            "keyed_from": keyed_from,
            "mac": _mac(count, head_id, head_hash, keyed_from),
        },
        separators=(",", ":"),
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchor() -> Anchor | None:
    """The longest chain the anchor records (None when nothing was ever anchored)."""
    path = anchor_path()
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL_BYTES))
        lines = handle.read().decode("ascii", errors="replace").splitlines()
    best: Anchor | None = None
    for line in lines:
        try:
            item = json.loads(line)
            anchor = Anchor(
                int(item["count"]),
                int(item["head_id"]),
                str(item["head_hash"]),
                int(item["keyed_from"]),
            )
            valid = hmac.compare_digest(
                str(item["mac"]),
                _mac(anchor.count, anchor.head_id, anchor.head_hash, anchor.keyed_from),
            )
        except (ValueError, KeyError, TypeError):
            continue  # a torn first line of the tail, or garbage
        if not valid:
            logger.error("audit anchor line with an invalid MAC ignored: %s", path)
            continue
        if best is None or anchor.count > best.count:
            best = anchor
    return best


def anchor_on_commit(*, count: int, head_id: int, head_hash: str, keyed_from: int) -> None:
    """Write the anchor once the transaction holding the event commits.

    A failure to write is logged, never raised: the change has committed, and
    ``verify_audit_log`` reports an anchor that lags the table.
    """

    def write() -> None:
        try:
            write_anchor(count=count, head_id=head_id, head_hash=head_hash, keyed_from=keyed_from)
        except OSError:
            logger.exception("audit anchor could not be written to %s", anchor_path())

    transaction.on_commit(write)
