"""Activation reads for the API and pages (docs/activation.md)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from content.selectors import live_mappings

from .models import (
    DeliveryAttempt,
    DeliveryState,
    Destination,
    MemberState,
    Publication,
    PublicationState,
    Sync,
)
from .services.syncs import approved_content


def destination_list() -> QuerySet:
    return Destination.objects.order_by("key")


def publication_list(*, segment: str | None = None, destination: str | None = None) -> QuerySet:
    qs = (
        Publication.objects.select_related("segment", "destination", "created_by")
        .annotate(
            undelivered=Count("syncs", filter=~Q(syncs__state=DeliveryState.DELIVERED)),
            failed=Count("syncs", filter=Q(syncs__state=DeliveryState.FAILED)),
        )
        .order_by("-created_at", "-id")
    )
    if segment:
        qs = qs.filter(segment__key=segment)
    if destination:
        qs = qs.filter(destination__key=destination)
    return qs


def publication_get(*, pk) -> Publication | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return publication_list().filter(pk=pk).first()


def syncs_after(*, publication: Publication, after: int = 0) -> QuerySet:
    return (
        Sync.objects.filter(publication=publication, number__gt=after)
        .select_related("publication__segment", "publication__destination")
        .order_by("number")
    )


def delivery_health(publication) -> str:
    """``ok``, ``pending`` or ``failing`` from the annotated counts of ``publication_list``."""
    if getattr(publication, "failed", 0):
        return "failing"
    if getattr(publication, "undelivered", 0):
        return "pending"
    return "ok"


def delivery_log(*, failed_only: bool = False) -> QuerySet:
    qs = DeliveryAttempt.objects.select_related(
        "sync__publication__segment", "sync__publication__destination"
    ).order_by("-started_at", "-id")
    if failed_only:
        qs = qs.filter(ok=False)
    return qs


def waiting_syncs() -> QuerySet:
    return (
        Sync.objects.exclude(state=DeliveryState.DELIVERED)
        .select_related("publication__segment", "publication__destination")
        .order_by("next_retry_at", "publication_id", "number")
    )


def publications_losing_asset(*, asset_code: str) -> list[dict]:
    """What withdrawing (or the expiry of) this asset does to live publications, now.

    Every live publication of a segment with a live approved mapping to the
    asset whose destination's channel the asset lists: ``pauses`` when no other
    approved content for that channel is left (its final sync exits everyone it
    sent, reason ``content_revoked``), else it keeps sending the ``remaining``
    assets. ``sent`` is how many people the destination holds now.
    """
    segment_ids = set(
        live_mappings().filter(asset__code=asset_code).values_list("segment_id", flat=True)
    )
    publications = (
        Publication.objects.filter(segment_id__in=segment_ids, state=PublicationState.LIVE)
        .select_related("segment", "destination")
        .annotate(sent=Count("members", filter=Q(members__state=MemberState.SENT)))
        .order_by("segment__key", "destination__key")
    )
    rows = []
    for publication in publications:
        content = approved_content(
            segment_id=publication.segment_id, channel=publication.destination.channel
        )
        if asset_code not in content:
            continue  # the asset does not list this destination's channel
        remaining = [code for code in content if code != asset_code]
        rows.append(
            {
                "publication": publication,
                "pauses": not remaining,
                "remaining": remaining,
                "sent": publication.sent,
            }
        )
    return rows
