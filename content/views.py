"""The content library page: assets with their MLR status and expiry."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.mixins import page_permission, sorted_page

EXPIRY_WARNING_DAYS = 30


@page_permission("view_assets")
def asset_list(request: HttpRequest) -> HttpResponse:
    """Assets (status as of now: an approved asset past its date reads expired), filterable."""
    from content.models import Audience, MlrStatus
    from content.selectors import asset_list as select_assets

    status = request.GET.get("status", "")
    audience = request.GET.get("audience", "")
    query = request.GET.get("q", "").strip()
    qs = select_assets(
        status=status if status in MlrStatus.values else None,
        audience=audience if audience in Audience.values else None,
    )
    if query:
        qs = qs.filter(Q(code__icontains=query) | Q(title__icontains=query))
    page, sort = sorted_page(
        request,
        qs,
        sorts=("code", "title", "effective_status", "expires_at", "audience", "intent"),
        default="code",
    )
    now = timezone.now()
    soon = now + timedelta(days=EXPIRY_WARNING_DAYS)
    rows = [
        {
            "asset": asset,
            "expiring": asset.effective_status == "approved"
            and asset.expires_at is not None
            and now < asset.expires_at <= soon,
        }
        for asset in page
    ]
    return render(
        request,
        "content/asset_list.html",
        {
            "rows": rows,
            "page_obj": page,
            "sort": sort,
            "status": status,
            "audience": audience,
            "q": query,
            "statuses": MlrStatus.values,
            "audiences": Audience.values,
            "warning_days": EXPIRY_WARNING_DAYS,
        },
    )
