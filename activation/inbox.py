"""Inbox sections about activation: paused publications and failed deliveries."""

from __future__ import annotations

from django.urls import reverse

from accounts.permissions import allowed
from core.inbox import InboxItem, InboxSection

from .models import DeliveryState, Publication, PublicationState, Sync


def _segment_url(publication) -> str:
    return reverse("segmentation:segment_detail", args=[publication.segment.key])


def activation_sections(*, user) -> list[InboxSection]:
    if not allowed(user, "view_publications"):
        return []
    paused = [
        InboxItem(
            text=f"{p.segment.key} → {p.destination.key} is paused",
            url=_segment_url(p),
            detail=p.paused_reason or "no reason given",
            tone="warn",
            badge="paused",
        )
        for p in Publication.objects.filter(state=PublicationState.PAUSED)
        .select_related("segment", "destination")
        .order_by("segment__key", "id")[:50]
    ]
    failed = []
    if allowed(user, "view_deliveries"):
        failed = [
            InboxItem(
                text=(
                    f"Sync {s.number} of {s.publication.segment.key} → "
                    f"{s.publication.destination.key} failed"
                ),
                url=reverse("activation:delivery_log") + "?failed=1",
                detail=f"after {s.attempts} attempts: {s.last_error or 'no error text'}",
                tone="bad",
                badge="failed",
            )
            for s in Sync.objects.filter(state=DeliveryState.FAILED)
            .select_related("publication__segment", "publication__destination")
            .order_by("-created_at")[:20]
        ]
    return [
        InboxSection(
            "paused",
            "Publications paused",
            paused,
            hint="Nothing is sent while a publication is paused; resume it on the segment page.",
            order=30,
        ),
        InboxSection(
            "delivery-failures",
            "Deliveries that failed",
            failed,
            hint="The delivery log shows each attempt and the next retry.",
            order=35,
        ),
    ]
