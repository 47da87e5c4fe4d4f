"""Activation reads for the API and pages (docs/activation.md)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import DeliveryAttempt, DeliveryState, Destination, Publication, Sync


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
