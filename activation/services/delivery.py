"""Delivery of syncs, in order per publication, with retries (docs/activation.md, "Delivery").

One worker at a time delivers a publication: it takes a short lease on the
publication row (an UPDATE ... WHERE the lease is free), so no transaction is
held open during a network call. It delivers the oldest undelivered sync,
then the next; a failure records the attempt, schedules the retry with
exponential backoff and stops, so sync N+1 never goes out before sync N. A
webhook that hangs costs one timeout of one worker, never another publication.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import http.client
import json
import os
import socket
import ssl
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import require
from audit.services import record_event
from core.csv import csv_safe
from core.errors import Conflict

from ..models import (
    DeliveryAttempt,
    DeliveryState,
    DestinationKind,
    Publication,
    PublicationState,
    Sync,
)
from .addresses import TargetRefused, resolve_checked
from .destinations import inside_root
from .syncs import side_of, sync_message, sync_publication


@dataclass
class DeliveryOutcome:
    """What one delivery run did: syncs delivered, and when to try again if one failed."""

    delivered: list[int]
    failed: int | None = None  # the number of the sync that failed
    error: str = ""
    retry_in: float | None = None  # seconds until the failed (or waiting) sync is due
    busy: bool = False  # another worker holds the lease

    def as_dict(self) -> dict:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "error": self.error,
            "retry_in": self.retry_in,
            "busy": self.busy,
        }


def backoff_seconds(attempts: int) -> int:
    """base * 2**(attempts-1), at most the configured maximum."""
    base = settings.ACTIVATION_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.ACTIVATION_RETRY_MAX_SECONDS)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_body(sync: Sync) -> bytes:
    return json.dumps(sync_message(sync), separators=(",", ":")).encode()


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the webhook's host pinned to its checked address, and the request path.

    The host is resolved once and every address checked (activation.services.addresses);
    the socket then connects to that address while the Host header and, for https, the
    certificate check still use the name. Raises TargetRefused or socket.gaierror.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = resolve_checked(host, port)
    timeout = settings.ACTIVATION_WEBHOOK_TIMEOUT
    if https:
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_to_checked(_address, timeout, source_address=None):
        return socket.create_connection((address, port), timeout, source_address)

    connection._create_connection = connect_to_checked  # type: ignore[attr-defined]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return connection, path


def _post_webhook(sync: Sync) -> tuple[bool, int | None, str]:
    """POST the signed message. Redirects are not followed (an answer the destination did
    not accept), no proxy is used (destinations are the company's own systems)."""
    destination = sync.publication.destination
    body = message_body(sync)
    headers = {
        "Content-Type": "application/json",
        "X-Signature": signature(destination.secret, body),
        "Idempotency-Key": f"{sync.publication_id}-{sync.number}",
        "User-Agent": "segment-governance-activation/1",
        "Connection": "close",
    }
    timeout = settings.ACTIVATION_WEBHOOK_TIMEOUT
    try:
        connection, path = _connection(destination.url)
    except TargetRefused as exc:
        return False, None, f"refused: {exc}"[:300]
    except (OSError, ValueError, UnicodeError) as exc:
        return False, None, f"connection failed: cannot resolve the host ({exc})"[:300]
    try:
        try:
            connection.connect()
        except TimeoutError:
            return False, None, f"timed out after {timeout:g} s"
        except (OSError, ValueError) as exc:
            return False, None, f"connection failed: {exc}"[:300]
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            response.read(65536)
        except TimeoutError:
            return False, None, f"timed out after {timeout:g} s"
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # Garbage for an answer (not HTTP, a broken status line): a failed attempt.
            return False, None, f"invalid answer: {type(exc).__name__}"[:300]
    finally:
        connection.close()
    if 200 <= status < 300:
        return True, status, ""
    return False, status, f"HTTP {status}"


def sync_file_name(sync: Sync) -> str:
    return f"{sync.publication.segment.key}-{sync.publication_id}-{sync.number:06d}.csv"


def _write_file(sync: Sync) -> tuple[bool, int | None, str]:
    """Write the sync's CSV under a temporary name, then rename it into place (atomic)."""
    destination = sync.publication.destination
    directory = inside_root(destination.directory)
    if directory is None:
        return False, None, "the directory is no longer inside ACTIVATION_FILE_ROOT"
    message = sync_message(sync)
    content = "|".join(message["content"])
    target = Path(directory) / sync_file_name(sync)
    tmp_name = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            key = side_of(sync.publication).key  # npi, or account_id for an account segment
            writer.writerow(["action", key, "content", "reason"])
            for row in message["entered"]:
                writer.writerow([csv_safe(v) for v in ("enter", row[key], content, "")])
            for row in message["exited"]:
                writer.writerow([csv_safe(v) for v in ("exit", row[key], "", row["reason"])])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        return False, None, f"{type(exc).__name__}: {exc.strerror or exc}"[:300]
    finally:
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return True, None, ""


def _send(sync: Sync) -> tuple[bool, int | None, str]:
    if sync.publication.destination.kind == DestinationKind.FILE:
        return _write_file(sync)
    return _post_webhook(sync)


def _record_attempt(
    sync: Sync, *, ok: bool, status: int | None, error: str, started, duration_ms: int
) -> Sync:
    """The attempt, the sync's delivery state and the audit event, in one transaction."""
    with transaction.atomic():
        sync = Sync.objects.select_for_update().get(pk=sync.pk)
        sync.attempts += 1
        DeliveryAttempt.objects.create(
            sync=sync,
            attempt=sync.attempts,
            started_at=started,
            duration_ms=duration_ms,
            ok=ok,
            status_code=status,
            error=error,
        )
        now = timezone.now()
        if ok:
            sync.state = DeliveryState.DELIVERED
            sync.delivered_at = now
            sync.next_retry_at = None
            sync.last_error = ""
        else:
            sync.state = DeliveryState.FAILED
            sync.next_retry_at = now + timedelta(seconds=backoff_seconds(sync.attempts))
            sync.last_error = error
        sync.save(
            update_fields=["attempts", "state", "delivered_at", "next_retry_at", "last_error"]
        )
        record_event(
            actor=None,
            action="sync.delivered" if ok else "sync.delivery_failed",
            object_type="publication",
            object_id=sync.publication_id,
            after={
                "sync": sync.number,
                "attempt": sync.attempts,
                "status_code": status,
                "error": error,
                "next_retry_at": sync.next_retry_at,
            },
        )
    return sync


def _lease_seconds() -> float:
    return settings.ACTIVATION_WEBHOOK_TIMEOUT * 4 + 60


def _take_lease(publication_id: int) -> bool:
    now = timezone.now()
    taken = (
        Publication.objects.filter(pk=publication_id)
        .filter(Q(delivery_lease_until__isnull=True) | Q(delivery_lease_until__lt=now))
        .update(delivery_lease_until=now + timedelta(seconds=_lease_seconds()))
    )
    return taken == 1


def deliver_publication(*, publication_id: int, force: bool = False) -> DeliveryOutcome:
    """Deliver this publication's undelivered syncs in order until one fails or none is left.

    ``force`` retries a failed sync now, whatever its backoff (the on-demand sync).
    """
    outcome = DeliveryOutcome(delivered=[])
    if not _take_lease(publication_id):
        outcome.busy = True
        outcome.retry_in = 5.0
        return outcome
    try:
        while True:
            sync = (
                Sync.objects.filter(publication_id=publication_id)
                .exclude(state=DeliveryState.DELIVERED)
                .select_related("publication__destination", "publication__segment")
                .order_by("number")
                .first()
            )
            if sync is None:
                return outcome
            now = timezone.now()
            due = sync.next_retry_at is None or sync.next_retry_at <= now
            if sync.state == DeliveryState.FAILED and not due and not force:
                outcome.retry_in = (sync.next_retry_at - now).total_seconds()
                return outcome
            Publication.objects.filter(pk=publication_id).update(
                delivery_lease_until=now + timedelta(seconds=_lease_seconds())
            )
            started = time.monotonic()
            ok, status, error = _send(sync)
            duration_ms = int((time.monotonic() - started) * 1000)
            sync = _record_attempt(
                sync, ok=ok, status=status, error=error, started=now, duration_ms=duration_ms
            )
            if not ok:
                outcome.failed = sync.number
                outcome.error = error
                outcome.retry_in = float(backoff_seconds(sync.attempts))
                return outcome
            outcome.delivered.append(sync.number)
    finally:
        Publication.objects.filter(pk=publication_id).update(delivery_lease_until=None)


def request_sync(*, user, publication: Publication) -> dict:
    """The on-demand sync (brand): make a sync if anything differs, then deliver what is due.

    Failed deliveries are retried now, whatever their backoff.
    """
    require(user, "sync_publication")
    if publication.state == PublicationState.PAUSED:
        raise Conflict(f"publication {publication.pk} is paused: resume it before syncing", path="")
    sync = sync_publication(
        publication_id=publication.pk, trigger="on_demand", user=user, full=True
    )
    outcome = deliver_publication(publication_id=publication.pk, force=True)
    publication.refresh_from_db()
    return {
        "created": sync is not None,
        "sync": sync.number if sync is not None else None,
        "last_sync": publication.last_sync,
        "delivery": outcome.as_dict(),
    }


def due_publication_ids(*, now=None) -> list[int]:
    """Publications with a pending sync, or a failed one whose retry is due (the beat job)."""
    now = now or timezone.now()
    return sorted(
        set(
            Sync.objects.filter(
                Q(state=DeliveryState.PENDING)
                | Q(state=DeliveryState.FAILED, next_retry_at__lte=now)
            ).values_list("publication_id", flat=True)
        )
    )
