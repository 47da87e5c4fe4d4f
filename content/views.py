"""The content library page: assets with their MLR status and expiry."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import allowed
from core.errors import DomainError, ErrorDetail, ValidationFailed

EXPIRY_WARNING_DAYS = 30


@page_permission("view_assets")
def asset_list(request: HttpRequest) -> HttpResponse:
    """Assets (status as of now: an approved asset past its date reads expired), filterable.

    Brand users also get the form to propose mapping an asset to a segment.
    """
    return _asset_page(request)


def _asset_page(
    request: HttpRequest,
    *,
    errors: list[ErrorDetail] | None = None,
    proposal: dict | None = None,
    status_code: int = 200,
) -> HttpResponse:
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
            **_proposal_context(request),
            "errors": errors or [],
            "proposal": proposal or {},
        },
        status=status_code,
    )


def _proposal_context(request: HttpRequest) -> dict:
    if not allowed(request.user, "propose_mapping"):
        return {"can_propose": False}
    from content.selectors import asset_list as select_assets
    from segmentation.models import Segment

    return {
        "can_propose": True,
        "proposable_assets": select_assets(status="approved").values_list("code", "title"),
        "segment_keys": Segment.objects.order_by("key").values_list("key", flat=True),
    }


@require_POST
@page_permission("propose_mapping")
def mapping_propose(request: HttpRequest) -> HttpResponse:
    """Propose mapping an asset to a segment; the service checks the four guards."""
    from content.selectors import asset_get
    from content.services import propose_mapping
    from segmentation.models import Segment

    proposal = {k: request.POST.get(k, "").strip() for k in ("asset", "segment", "rationale")}
    try:
        asset = asset_get(code=proposal["asset"])
        segment = Segment.objects.filter(key=proposal["segment"]).first()
        if asset is None or segment is None:
            raise ValidationFailed(
                errors=[
                    ErrorDetail(path, f"unknown {path} '{proposal[path]}'")
                    for path, found in (("asset", asset), ("segment", segment))
                    if found is None
                ]
            )
        propose_mapping(
            user=request.user, asset=asset, segment=segment, rationale=proposal["rationale"]
        )
    except DomainError as exc:
        return _asset_page(
            request, errors=list(exc.errors), proposal=proposal, status_code=exc.status
        )
    messages.success(
        request, f"Mapping {proposal['asset']} → {proposal['segment']} proposed to compliance."
    )
    return redirect("content:asset_list")
