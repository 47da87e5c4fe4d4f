"""Publications (brand): publish a segment to a destination, pause and resume.

See docs/activation.md, "Publications". Publishing needs the segment's active
version and an approved content mapping whose asset lists the destination's
channel; the first sync is queued when the publication commits.
"""

from __future__ import annotations

from django.db import transaction

from accounts.permissions import allowed, require
from audit.services import record_event
from core.errors import Conflict, ErrorDetail, ValidationFailed
from segmentation.models import Segment, SegmentVersion, VersionState

from ..models import Destination, Publication, PublicationState
from ..signals import sync_requested
from .syncs import approved_content, publication_gate

MAX_HOLDOUT = 50


def publication_snapshot(publication: Publication) -> dict:
    return {
        "id": publication.pk,
        "segment": publication.segment.key,
        "destination": publication.destination.key,
        "channel": publication.destination.channel,
        "holdout_percent": publication.holdout_percent,
        "state": publication.state,
        "paused_reason": publication.paused_reason,
        "last_sync": publication.last_sync,
    }


def _holdout(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValidationFailed(
                "holdout_percent must be a whole number from 0 to 50", path="holdout_percent"
            )
    if not 0 <= value <= MAX_HOLDOUT:
        raise ValidationFailed(
            f"holdout_percent must be from 0 to {MAX_HOLDOUT}", path="holdout_percent"
        )
    return value


def _queue_sync(publication_id: int, trigger: str, *, full: bool = False) -> None:
    """Ask for a sync once this transaction commits (receivers.py queues the task)."""
    transaction.on_commit(
        lambda: sync_requested.send(
            sender=_queue_sync, publication_id=publication_id, trigger=trigger, full=full
        )
    )


def create_publication(
    *, user, segment: Segment, destination_key, holdout_percent=None
) -> Publication:
    """Publish ``segment`` to a destination (brand), refused unless the gate is open."""
    require(user, "publish_segment")
    errors: list[ErrorDetail] = []
    destination = None
    if not isinstance(destination_key, str) or not destination_key:
        errors.append(ErrorDetail("destination", "required: the key of a destination"))
    else:
        destination = Destination.objects.filter(key=destination_key).first()
        if destination is None:
            errors.append(ErrorDetail("destination", f"no destination '{destination_key}'"))
    try:
        holdout = _holdout(holdout_percent)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    active = SegmentVersion.objects.filter(segment=segment, state=VersionState.ACTIVE).first()
    if active is None:
        raise ValidationFailed(
            f"segment {segment.key} has no active version: only an active version is "
            "published (a draft or an approved version that is not active cannot be)",
            path="segment",
        )
    if not approved_content(segment_id=segment.pk, channel=destination.channel):
        raise ValidationFailed(
            f"segment {segment.key} has no approved content mapping whose asset lists the "
            f"channel '{destination.channel}' of destination {destination.key}",
            path="destination",
        )
    with transaction.atomic():
        publication = Publication.objects.create(
            segment=segment,
            destination=destination,
            holdout_percent=holdout,
            created_by=user,
        )
        record_event(
            actor=user,
            action="publication.created",
            object_type="publication",
            object_id=publication.pk,
            after=publication_snapshot(publication),
        )
        _queue_sync(publication.pk, "published")
    return publication


def pause_publication(*, user, publication: Publication, reason: str = "") -> Publication:
    """Stop sending (brand, compliance, admin). The destination keeps what it holds."""
    require(user, "pause_publication")
    with transaction.atomic():
        publication = Publication.objects.select_for_update().get(pk=publication.pk)
        if publication.state == PublicationState.PAUSED:
            raise Conflict(f"publication {publication.pk} is already paused", path="")
        before = publication_snapshot(publication)
        publication.state = PublicationState.PAUSED
        publication.paused_reason = (reason or "").strip()[:300] or f"paused by {user.username}"
        publication.save(update_fields=["state", "paused_reason"])
        record_event(
            actor=user,
            action="publication.paused",
            object_type="publication",
            object_id=publication.pk,
            before=before,
            after=publication_snapshot(publication),
            reason=publication.paused_reason,
        )
    return publication


def resume_publication(*, user, publication: Publication) -> Publication:
    """Send again (brand), refused while the compliance gate is closed; syncs at once."""
    require(user, "resume_publication")
    with transaction.atomic():
        publication = (
            Publication.objects.select_for_update()
            .select_related("segment", "destination")
            .get(pk=publication.pk)
        )
        if publication.state == PublicationState.LIVE:
            raise Conflict(f"publication {publication.pk} is not paused", path="")
        gate = publication_gate(publication)
        if not gate.open:
            raise ValidationFailed(f"cannot resume: {gate.message}", path="")
        before = publication_snapshot(publication)
        publication.state = PublicationState.LIVE
        publication.paused_reason = ""
        publication.save(update_fields=["state", "paused_reason"])
        record_event(
            actor=user,
            action="publication.resumed",
            object_type="publication",
            object_id=publication.pk,
            before=before,
            after=publication_snapshot(publication),
        )
        _queue_sync(publication.pk, "resumed", full=True)
    return publication


def may_see(user) -> bool:
    return allowed(user, "view_publications")
