"""Numbered syncs: the set-based difference, the compliance gate and the message.

See docs/activation.md, "Syncs" and "The compliance gate". One sync is made
under a lock on the publication row, so concurrent requests are serialised and
numbers never repeat. The difference is computed in SQL between what the
destination holds (``SentMember``) and the target set: the active version's
members, minus the holdout, minus suppressed customers (``email_opt_out`` for
the email channel). When approved content for the channel is gone, or the
segment has no active version any more, the target set is empty: the sync
exits everyone with ``content_revoked`` or ``retired`` and the publication pauses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from accounts.permissions import require
from audit.services import record_event
from content.selectors import live_mappings
from content.services import expire_due_assets
from core.errors import Conflict
from core.time import iso_z
from customers.models import Customer
from customers.vocabularies import Channel
from segmentation.models import Membership, SegmentVersion, VersionState

from ..models import (
    ChangeAction,
    DeliveryState,
    Publication,
    PublicationState,
    SentMember,
    Sync,
    SyncChange,
)
from .holdout import bucket_sql

RETIRED = "retired"
ANALYZE_AFTER = 10_000  # rows changed by one sync
CONTENT_REVOKED = "content_revoked"


@dataclass
class Gate:
    """Whether a publication may send now, and what: the active version and approved content."""

    version: SegmentVersion | None
    content: list[str] = field(default_factory=list)
    closed_reason: str = ""  # "", "retired" or "content_revoked"
    message: str = ""

    @property
    def open(self) -> bool:
        return not self.closed_reason


def approved_content(*, segment_id: int, channel: str) -> list[str]:
    """Codes of live assets with an approved mapping to the segment that list ``channel``."""
    rows = (
        live_mappings().filter(segment_id=segment_id).values_list("asset__code", "asset__channels")
    )
    return sorted({code for code, channels in rows if channel in (channels or [])})


def publication_gate(publication: Publication) -> Gate:
    """The compliance gate of docs/activation.md for this publication, now."""
    segment = publication.segment
    channel = publication.destination.channel
    version = SegmentVersion.objects.filter(segment=segment, state=VersionState.ACTIVE).first()
    if version is None:
        return Gate(
            version=None,
            closed_reason=RETIRED,
            message=f"segment {segment.key} has no active version (retired)",
        )
    content = approved_content(segment_id=segment.pk, channel=channel)
    if not content:
        return Gate(
            version=version,
            closed_reason=CONTENT_REVOKED,
            message=(
                f"segment {segment.key} has no approved content mapping whose asset "
                f"lists the channel '{channel}'"
            ),
        )
    return Gate(version=version, content=content)


def _tables() -> dict[str, str]:
    return {
        "sent": SentMember._meta.db_table,
        "change": SyncChange._meta.db_table,
        "member": Membership._meta.db_table,
        "customer": Customer._meta.db_table,
    }


def _insert_entries(publication: Publication, sync: Sync, gate: Gate) -> int:
    """Members of the active version the destination does not hold, minus holdout/suppressed."""
    t = _tables()
    conditions = []
    params: list = [sync.pk, ChangeAction.ENTER.value, "", gate.version.pk, publication.pk]
    if publication.holdout_percent > 0:
        bucket = bucket_sql(connection, publication_id=publication.pk, npi_column="c.npi")
        conditions.append(f"AND {bucket} >= %s")
        params.append(publication.holdout_percent)
    if publication.destination.channel == Channel.EMAIL:
        conditions.append("AND c.email_opt_out = %s")
        params.append(False)
    sql = f"""
        INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
        SELECT %s, c.id, c.npi, %s, %s
        FROM {t["member"]} m JOIN {t["customer"]} c ON c.id = m.customer_id
        WHERE m.version_id = %s
          AND NOT EXISTS (
            SELECT 1 FROM {t["sent"]} s
            WHERE s.publication_id = %s AND s.customer_id = m.customer_id)
          {" ".join(conditions)}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _insert_exits(publication: Publication, sync: Sync, gate: Gate) -> int:
    """Customers the destination holds that are no longer in the target set, with the reason.

    The holdout is not re-checked here: the rule and the percentage are fixed,
    so a customer who was sent is never in the holdout.
    """
    t = _tables()
    if not gate.open:
        sql = f"""
            INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
            SELECT %s, c.id, c.npi, %s, %s
            FROM {t["sent"]} s JOIN {t["customer"]} c ON c.id = s.customer_id
            WHERE s.publication_id = %s
        """
        params = [sync.pk, ChangeAction.EXIT.value, gate.closed_reason, publication.pk]
    elif publication.destination.channel == Channel.EMAIL:
        sql = f"""
            INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
            SELECT %s, c.id, c.npi, %s,
                   CASE WHEN c.email_opt_out = %s THEN %s ELSE %s END
            FROM {t["sent"]} s JOIN {t["customer"]} c ON c.id = s.customer_id
            WHERE s.publication_id = %s
              AND (c.email_opt_out = %s OR NOT EXISTS (
                SELECT 1 FROM {t["member"]} m
                WHERE m.version_id = %s AND m.customer_id = s.customer_id))
        """
        params = [
            sync.pk,
            ChangeAction.EXIT.value,
            True,
            "suppressed",
            "exit",
            publication.pk,
            True,
            gate.version.pk,
        ]
    else:
        sql = f"""
            INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
            SELECT %s, c.id, c.npi, %s, %s
            FROM {t["sent"]} s JOIN {t["customer"]} c ON c.id = s.customer_id
            WHERE s.publication_id = %s
              AND NOT EXISTS (
                SELECT 1 FROM {t["member"]} m
                WHERE m.version_id = %s AND m.customer_id = s.customer_id)
        """
        params = [sync.pk, ChangeAction.EXIT.value, "exit", publication.pk, gate.version.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _apply_to_sent_set(publication: Publication, sync: Sync) -> None:
    """The destination's set after this sync: remove the exits, add the entries (set-based)."""
    t = _tables()
    if connection.vendor == "postgresql":
        # A join, not IN (subquery): PostgreSQL probes the unique (publication, customer) index.
        delete = f"""DELETE FROM {t["sent"]} s USING {t["change"]} x
            WHERE s.publication_id = %s AND x.sync_id = %s AND x.action = %s
              AND s.customer_id = x.customer_id"""
    else:
        delete = f"""DELETE FROM {t["sent"]} WHERE publication_id = %s AND customer_id IN (
            SELECT customer_id FROM {t["change"]} WHERE sync_id = %s AND action = %s)"""
    with connection.cursor() as cursor:
        cursor.execute(delete, [publication.pk, sync.pk, ChangeAction.EXIT.value])
        cursor.execute(
            f"""INSERT INTO {t["sent"]} (publication_id, customer_id, entered_sync)
                SELECT %s, customer_id, %s FROM {t["change"]} WHERE sync_id = %s AND action = %s""",
            [publication.pk, sync.number, sync.pk, ChangeAction.ENTER.value],
        )


def _last_version_number(publication: Publication) -> int:
    last = publication.syncs.order_by("-number").values_list("version_number", flat=True).first()
    return last or 0


def sync_publication(*, publication_id: int, trigger: str, user=None) -> Sync | None:
    """Make the next sync of a publication if anything differs; None when nothing does.

    A paused publication sends nothing, except the final sync that exits
    everyone when its compliance gate has closed. A live publication whose gate
    closed sends that final sync and becomes paused. Delivery is queued when the
    sync commits.
    """
    # Expire what is due first, so an asset past its date never reaches a message.
    expire_due_assets()
    with transaction.atomic():
        publication = (
            Publication.objects.select_for_update()
            .select_related("segment", "destination")
            .get(pk=publication_id)
        )
        gate = publication_gate(publication)
        if publication.state == PublicationState.PAUSED and gate.open:
            return None
        holds_anyone = SentMember.objects.filter(publication=publication).exists()
        if publication.state == PublicationState.PAUSED and not holds_anyone:
            return None
        now = timezone.now()
        version = gate.version
        sync = Sync.objects.create(
            publication=publication,
            number=publication.last_sync + 1,
            version=version,
            version_number=version.number if version else _last_version_number(publication),
            as_of=(version.last_as_of or now) if version else now,
            content=gate.content,
            trigger=trigger,
            created_at=now,
        )
        entered = _insert_entries(publication, sync, gate) if gate.open else 0
        exited = _insert_exits(publication, sync, gate) if holds_anyone else 0
        if entered == 0 and exited == 0 and gate.content == list(publication.content or []):
            sync.delete()
            sync = None
        else:
            _apply_to_sent_set(publication, sync)
            if entered + exited >= ANALYZE_AFTER and connection.vendor == "postgresql":
                # A big sync (a first one) changes the tables' shape: refresh the planner's
                # statistics now, so the next delta is not planned on an empty table.
                with connection.cursor() as cursor:
                    tables = _tables()
                    cursor.execute(f"ANALYZE {tables['sent']}, {tables['change']}")
            sync.entered_count, sync.exited_count = entered, exited
            sync.save(update_fields=["entered_count", "exited_count"])
            publication.last_sync = sync.number
            publication.content = gate.content
            publication.save(update_fields=["last_sync", "content"])
            record_event(
                actor=user,
                action="sync.created",
                object_type="publication",
                object_id=publication.pk,
                after={
                    "sync": sync.number,
                    "segment": publication.segment.key,
                    "destination": publication.destination.key,
                    "version": sync.version_number,
                    "entered": entered,
                    "exited": exited,
                    "content": gate.content,
                },
                reason=trigger,
            )
            pid = publication.pk
            transaction.on_commit(lambda: _queue_delivery(pid))
        if not gate.open and publication.state == PublicationState.LIVE:
            publication.state = PublicationState.PAUSED
            publication.paused_reason = gate.message
            publication.save(update_fields=["state", "paused_reason"])
            record_event(
                actor=user,
                action="publication.paused",
                object_type="publication",
                object_id=publication.pk,
                before={"state": PublicationState.LIVE.value},
                after={"state": PublicationState.PAUSED.value, "gate": gate.closed_reason},
                reason=gate.message,
            )
    return sync


def _queue_delivery(publication_id: int) -> None:
    # tasks.py imports the services; the service queues the task: import here to break the cycle.
    from ..tasks import deliver_publication_task

    deliver_publication_task.delay(publication_id)


def request_sync(*, user, publication: Publication) -> dict:
    """The on-demand sync (brand): make a sync if anything differs, then deliver what is due.

    Failed deliveries are retried now, whatever their backoff.
    """
    # delivery imports syncs' helpers; imported here for the same reason as above.
    from .delivery import deliver_publication

    require(user, "sync_publication")
    if publication.state == PublicationState.PAUSED:
        raise Conflict(f"publication {publication.pk} is paused: resume it before syncing", path="")
    sync = sync_publication(publication_id=publication.pk, trigger="on_demand", user=user)
    outcome = deliver_publication(publication_id=publication.pk, force=True)
    publication.refresh_from_db()
    return {
        "created": sync is not None,
        "sync": sync.number if sync is not None else None,
        "last_sync": publication.last_sync,
        "delivery": outcome.as_dict(),
    }


def sync_message(sync: Sync) -> dict:
    """The message of docs/activation.md, rendered from the sync's rows (NPIs in order)."""
    publication = sync.publication
    content = list(sync.content or [])
    changes = SyncChange.objects.filter(sync=sync)
    entered = [
        {"npi": npi, "content": content}
        for npi in changes.filter(action=ChangeAction.ENTER)
        .order_by("npi")
        .values_list("npi", flat=True)
        .iterator(chunk_size=10000)
    ]
    exited = [
        {"npi": npi, "reason": reason}
        for npi, reason in changes.filter(action=ChangeAction.EXIT)
        .order_by("npi")
        .values_list("npi", "reason")
        .iterator(chunk_size=10000)
    ]
    return {
        "publication": publication.pk,
        "segment": publication.segment.key,
        "version": sync.version_number,
        "sync": sync.number,
        "as_of": iso_z(sync.as_of),
        "channel": publication.destination.channel,
        "entered": entered,
        "exited": exited,
        "content": content,
    }


def undelivered(publication: Publication):
    return publication.syncs.exclude(state=DeliveryState.DELIVERED).order_by("number")
