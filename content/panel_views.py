"""Content on a segment's page: an htmx panel the segment page loads from here, so
segmentation never imports content (docs/architecture.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.mixins import page_permission
from accounts.permissions import allowed
from segmentation.models import Segment

from . import selectors

STATE_ORDER = {"rejected": 0, "revoked": 1, "proposed": 2, "approved": 3}


@page_permission("view_mappings")
def segment_content_panel(request: HttpRequest, key: str) -> HttpResponse:
    """Every mapping of the segment: proposed, approved, rejected with compliance's comment,
    revoked with the reason; rejected and revoked first, so they are not missed."""
    segment = get_object_or_404(Segment, key=key)
    mappings = sorted(
        selectors.mapping_list(segment=segment.key),
        key=lambda m: (STATE_ORDER.get(m.state, 9), -m.proposed_at.timestamp()),
    )
    return render(
        request,
        "content/partials/segment_content.html",
        {
            "segment": segment,
            "mappings": mappings,
            "can_propose": allowed(request.user, "propose_mapping"),
        },
    )
