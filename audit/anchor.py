"""The audit chain's anchor outside the database (docs/governance.md, "Audit trail").

After every commit that adds an audit event, the chain's head (event id and
hash) and length are appended as one JSON line to a file in
``AUDIT_ANCHOR_DIR`` (one file per database), opened in append mode and
fsynced. Each line carries an HMAC with the audit key, so a forged line is
ignored.

The file belongs to the database itself, not to how it is reached: it is named
by, and each line carries, a random identifier stored in the database
(``AuditDatabase``), so ``localhost`` and ``127.0.0.1`` find the same anchor
and an anchor copied from another database is recognised as foreign.
``load_anchor`` says what is wrong with an anchor that is missing, unreadable
or foreign. Someone who empties the table, or deletes its newest events, cannot
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
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction

logger = logging.getLogger(__name__)

_TAIL_BYTES = 64 * 1024  # concurrent commits may append out of order: read the last lines


@dataclass(frozen=True)
class Anchor:
    count: int
    head_id: int
    head_hash: str
    # The position of the first keyed event (the cut-over): no unkeyed event may sit at or after it.
    keyed_from: int = 1


def _mac(count: int, head_id: int, head_hash: str, keyed_from: int, database: str = "") -> str:
    message = f"{count}:{head_id}:{head_hash}:{keyed_from}"
    if database:  # lines written before the database identity carry none
        message += f":{database}"
    return hmac.new(
        settings.AUDIT_HMAC_KEY.encode("utf-8"), message.encode(), hashlib.sha256
    ).hexdigest()


def database_id() -> str:
    """This database's random identity, made once (by migration, or here if missing)."""
    from .models import AuditDatabase

    found = AuditDatabase.objects.order_by("pk").values_list("database_id", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            AuditDatabase.objects.create(database_id=uuid.uuid4().hex)
    except IntegrityError:
        pass  # made concurrently
    return AuditDatabase.objects.order_by("pk").values_list("database_id", flat=True).first()


def anchor_path() -> Path:
    """The anchor file of the current database (named by its identity, not its host)."""
    return Path(settings.AUDIT_ANCHOR_DIR) / f"{connection.vendor}-{database_id()}.jsonl"


def _legacy_anchor_path() -> Path:
    """Where anchors were kept before the database identity (named by host, port and name)."""
    db = connection.settings_dict
    label = f"{connection.vendor}-{db.get('HOST') or ''}-{db.get('PORT') or ''}-{db['NAME']}"
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_")[:150]
    return Path(settings.AUDIT_ANCHOR_DIR) / f"{label}.jsonl"


def write_anchor(*, count: int, head_id: int, head_hash: str, keyed_from: int) -> None:
    """Append one anchor line (append mode, fsynced)."""
    database = database_id()
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "count": count,
            "head_id": head_id,
            "head_hash": head_hash,
            "keyed_from": keyed_from,
            "database": database,
            "mac": _mac(count, head_id, head_hash, keyed_from, database),
        },
        separators=(",", ":"),
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class AnchorState:
    """What the anchor file holds: its longest chain, or what is wrong with it."""

    path: Path
    anchor: Anchor | None = None
    missing: bool = False
    problem: str = ""


def _tail_lines(path: Path) -> list[str]:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL_BYTES))
        return handle.read().decode("ascii", errors="replace").splitlines()


def load_anchor() -> AnchorState:
    """Read the anchor: the longest chain it records, or that it is missing, unreadable
    or from another database (a line whose MAC holds but which names another identity)."""
    database = database_id()
    path = anchor_path()
    legacy = False
    if not path.exists():
        old = _legacy_anchor_path()
        if not old.exists():
            return AnchorState(path, missing=True)
        path, legacy = old, True
    try:
        lines = _tail_lines(path)
    except OSError as exc:
        return AnchorState(path, problem=f"the anchor {path} cannot be read ({exc.strerror})")
    best: Anchor | None = None
    foreign = ""
    for line in lines:
        try:
            item = json.loads(line)
            anchor = Anchor(
                int(item["count"]),
                int(item["head_id"]),
                str(item["head_hash"]),
                int(item["keyed_from"]),
            )
            named = str(item.get("database") or "")
            valid = hmac.compare_digest(
                str(item["mac"]),
                _mac(anchor.count, anchor.head_id, anchor.head_hash, anchor.keyed_from, named),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a torn first line of the tail, or garbage
        if not valid:
            logger.error("audit anchor line with an invalid MAC ignored: %s", path)
            continue
        if named != database and not (legacy and not named):
            foreign = named or "none"
            continue
        if best is None or anchor.count > best.count:
            best = anchor
    if foreign and best is None:
        return AnchorState(
            path,
            problem=(
                f"the anchor {path} belongs to another database (identity {foreign}; "
                f"this database is {database})"
            ),
        )
    if best is None and lines:
        return AnchorState(path, problem=f"the anchor {path} holds no valid anchor line")
    return AnchorState(path, anchor=best, missing=best is None)


def read_anchor() -> Anchor | None:
    """The longest chain the anchor records (None when missing, unreadable or foreign)."""
    return load_anchor().anchor


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
