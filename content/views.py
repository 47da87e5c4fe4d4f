"""Content pages: the asset library, mapping proposals, and compliance's mapping queue."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import allowed
from accounts.signing import ReauthenticationRequired
from core.errors import DomainError, ErrorDetail, ValidationFailed
from segmentation.models import Segment

from . import selectors, services
from .models import Audience, ContentAsset, ContentMapping, MappingState, MlrStatus
from .reauth import begin_mapping_decision

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
    status = request.GET.get("status", "")
    audience = request.GET.get("audience", "")
    query = request.GET.get("q", "").strip()
    qs = selectors.asset_list(
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
            "past": asset.expires_at is not None and asset.expires_at <= now,
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
            # "Propose content for {segment}" links here with ?segment=KEY preselected.
            "proposal": proposal or {"segment": request.GET.get("segment", "")},
            "can_create": allowed(request.user, "create_asset"),
        },
        status=status_code,
    )


def _proposal_context(request: HttpRequest) -> dict:
    if not allowed(request.user, "propose_mapping"):
        return {"can_propose": False}
    return {
        "can_propose": True,
        "proposable_assets": selectors.asset_list(status="approved").values_list("code", "title"),
        "segment_keys": Segment.objects.order_by("key").values_list("key", flat=True),
    }


@require_POST
@page_permission("propose_mapping")
def mapping_propose(request: HttpRequest) -> HttpResponse:
    """Propose mapping an asset to a segment; the service checks the four guards."""
    proposal = {k: request.POST.get(k, "").strip() for k in ("asset", "segment", "rationale")}
    try:
        asset = ContentAsset.objects.filter(code=proposal["asset"]).first()
        segment = Segment.objects.filter(key=proposal["segment"]).first()
        if asset is None or segment is None:
            raise ValidationFailed(
                errors=[
                    ErrorDetail(path, f"unknown {path} '{proposal[path]}'")
                    for path, found in (("asset", asset), ("segment", segment))
                    if found is None
                ]
            )
        services.propose_mapping(
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


GUARDS = (
    (1, "Asset approved and not expired"),
    (2, "Audience fits the segment (HCP)"),
    (3, "Intent fits the segment's purpose"),
    (4, "No off-label indication (promotional)"),
)


def guard_results(mapping) -> list[dict]:
    """Each guard of docs/governance.md with pass/fail, from content.services' guard check."""
    try:
        version = services.mapping_target_version(mapping.segment)
    except DomainError as exc:
        return [
            {
                "number": 0,
                "label": "Segment has an active or approved version",
                "ok": False,
                "messages": [str(e.message) for e in exc.errors],
            }
        ]
    failures = services.mapping_guard_errors(asset=mapping.asset, version=version)
    results = []
    for number, label in GUARDS:
        mine = [e.message for e in failures if e.message.startswith(f"guard {number}")]
        results.append({"number": number, "label": label, "ok": not mine, "messages": mine})
    other = [e.message for e in failures if not e.message.startswith("guard ")]
    if other:
        results.append({"number": 0, "label": "Other", "ok": False, "messages": other})
    return results


@page_permission("view_mapping_queue")
def mapping_list(request: HttpRequest) -> HttpResponse:
    """The compliance queue: proposed mappings (or another state) with guard results."""
    state = request.GET.get("state", "proposed")
    if state not in MappingState.values and state != "all":
        state = "proposed"
    qs = selectors.mapping_list(state=None if state == "all" else state)
    page, sort = sorted_page(
        request,
        qs,
        sorts=("proposed_at", "asset__code", "segment__key", "state"),
        default="-proposed_at",
    )
    rows = [{"mapping": m, "guards": guard_results(m)} for m in page]
    for row in rows:
        row["all_pass"] = all(g["ok"] for g in row["guards"])
    return render(
        request,
        "content/mapping_list.html",
        {
            "rows": rows,
            "page_obj": page,
            "sort": sort,
            "state": state,
            "states": ["all", *MappingState.values],
        },
    )


@page_permission("view_mapping_queue")
def mapping_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One mapping: asset, segment, rationale, guards; approve/reject with a signature."""
    mapping = get_object_or_404(
        ContentMapping.objects.select_related("asset", "segment", "segment_version", "proposed_by"),
        pk=pk,
    )
    errors: list[ErrorDetail] = []
    status = 200
    form_values = {"decision": "", "comment": ""}
    if request.method == "POST":
        form_values = {k: request.POST.get(k, "").strip() for k in form_values}
        try:
            services.decide_mapping(
                user=request.user,
                mapping=mapping,
                decision=form_values["decision"],
                comment=form_values["comment"],
                password=request.POST.get("password", ""),
            )
        except ReauthenticationRequired:
            # An SSO signer: the rules held; now re-authenticate at the provider.
            return begin_mapping_decision(
                request,
                mapping=mapping,
                decision=form_values["decision"],
                comment=form_values["comment"],
            )
        except DomainError as exc:
            errors, status = list(exc.errors), exc.status
        else:
            verb = "approved" if form_values["decision"] == "approve" else "rejected"
            messages.success(
                request, f"Mapping {mapping.asset.code} → {mapping.segment.key} {verb}."
            )
            return redirect("content:mapping_list")
        mapping.refresh_from_db()
    return render(
        request,
        "content/mapping_detail.html",
        {
            "mapping": mapping,
            "guards": guard_results(mapping),
            "errors": errors,
            "form_values": form_values,
            "can_decide": allowed(request.user, "decide_mapping") and mapping.state == "proposed",
            "meanings": {d: services.mapping_meaning(d) for d in ("approve", "reject")},
        },
        status=status,
    )
