"""Compliance's asset pages: create, edit, record MLR status with an e-signature, read the
status history and where an asset is used (docs/governance.md, "Content assets").

The views collect input and call ``content.services``; every rule (who, which move,
password re-entry, future expiry, withdrawal reason) is the services'.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission
from accounts.permissions import allowed
from accounts.signing import ReauthenticationRequired
from audit.models import AuditEvent
from core.errors import DomainError, ErrorDetail
from customers.views import import_page
from segmentation.models import Membership, VersionState

from . import selectors, services
from .forms import AssetForm, initial_from_asset
from .models import ContentAsset, MappingState, MlrStatus
from .reauth import begin_asset_status

STATUS_LABELS = {
    MlrStatus.IN_REVIEW: "In review (sent to MLR)",
    MlrStatus.DRAFT: "Back to draft",
    MlrStatus.APPROVED: "Approved by MLR (e-signature)",
    MlrStatus.WITHDRAWN: "Withdrawn (e-signature, revokes its mappings)",
}
EVENT_LABELS = {
    "asset.created": "created",
    "asset.updated": "edited",
    "asset.submitted_for_review": "sent for MLR review",
    "asset.returned_to_draft": "returned to draft",
    "asset.approved": "approved",
    "asset.withdrawn": "withdrawn",
    "asset.expired": "expired",
}


def _may_set_expiry(user) -> bool:
    # Only compliance moves expires_at (content.services.update_asset).
    return user.has_role("compliance")


@page_permission("create_asset")
def asset_new(request: HttpRequest) -> HttpResponse:
    """Create an asset; it starts as a draft."""
    errors: list[ErrorDetail] = []
    may_expire = _may_set_expiry(request.user)
    if request.method == "POST":
        form = AssetForm(request.POST, may_set_expiry=may_expire)
        if form.is_valid():
            try:
                asset = services.create_asset(user=request.user, data=form.service_data())
            except DomainError as exc:
                errors = _to_fields(exc, form)
            else:
                messages.success(request, f"Asset {asset.code} created as a draft.")
                return redirect("content:asset_detail", code=asset.code)
    else:
        form = AssetForm(initial={"audience": "hcp"}, may_set_expiry=may_expire)
    return render(
        request,
        "content/asset_new.html",
        {"form": form, "errors": errors},
        status=400 if request.method == "POST" else 200,
    )


def _to_fields(exc: DomainError, form: AssetForm) -> list[ErrorDetail]:
    """Errors about a form field go next to it; the rest stay in the list above the form."""
    rest = []
    for error in exc.errors:
        name = error.path.split("[")[0]
        if name in form.fields:
            form.add_error(name, error.message)
        else:
            rest.append(error)
    return rest


def _asset(code: str) -> ContentAsset:
    # Expire what is due first, so the page never offers moves from a stale "approved".
    services.expire_due_assets()
    return selectors.asset_get(code=code)


def _history(asset: ContentAsset) -> list[dict]:
    events = (
        AuditEvent.objects.filter(object_type="asset", object_id=asset.code)
        .select_related("actor")
        .order_by("occurred_at", "id")
    )
    rows = []
    for event in events:
        before = (event.before or {}).get("mlr_status")
        after = (event.after or {}).get("mlr_status")
        rows.append(
            {
                "event": event,
                "label": EVENT_LABELS.get(event.action, event.action),
                "before": before if before != after else None,
                "after": after,
                # The printed name (as signatures carry it); the username only when the
                # user is gone.
                "who": (
                    event.actor.printed_name
                    if event.actor_id
                    else event.actor_username or "system (expiry date)"
                ),
            }
        )
    return rows


def _where_used(asset: ContentAsset) -> dict:
    mappings = list(
        asset.mappings.select_related(
            "segment", "segment_version", "proposed_by", "decided_by"
        ).order_by("-proposed_at", "-id")
    )
    approved_segments = [m.segment_id for m in mappings if m.state == MappingState.APPROVED]
    territories = (
        Membership.objects.filter(
            version__segment_id__in=approved_segments, version__state=VersionState.ACTIVE
        )
        .values("customer__territory_id")
        .annotate(members=Count("customer", distinct=True))
        .order_by("customer__territory_id")
    )
    return {
        "mappings": mappings,
        # What withdrawal or expiry revokes at once (docs/governance.md, "Content-to-segment
        # mappings"); the publications it pauses come from activation's panel.
        "revokes": [m for m in mappings if m.state == MappingState.APPROVED],
        "segments": sorted({m.segment.key for m in mappings if m.state == "approved"}),
        "territories": [
            {"code": t["customer__territory_id"] or "—", "members": t["members"]}
            for t in territories
        ],
    }


def _detail(
    request: HttpRequest,
    asset: ContentAsset,
    *,
    edit_form: AssetForm | None = None,
    errors: list[ErrorDetail] | None = None,
    status_errors: list[ErrorDetail] | None = None,
    status_values: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    effective = services.effective_status(asset)
    locked = effective not in (MlrStatus.DRAFT, MlrStatus.IN_REVIEW)
    can_edit = allowed(user, "edit_asset") and (not locked or _may_set_expiry(user))
    if edit_form is None and can_edit:
        edit_form = AssetForm(
            initial=initial_from_asset(asset),
            editing=True,
            locked=locked,
            may_set_expiry=_may_set_expiry(user),
        )
    moves = services.status_moves(user=user, asset=asset)
    now = timezone.now()
    context = {
        "asset": asset,
        "effective": effective,
        "expired": asset.expires_at is not None and asset.expires_at <= now,
        "can_edit": can_edit,
        "edit_form": edit_form,
        "errors": errors or [],
        "moves": [(m, STATUS_LABELS[m]) for m in moves],
        "status_errors": status_errors or [],
        "status_values": status_values or {},
        "history": _history(asset),
        **_where_used(asset),
    }
    return render(request, "content/asset_detail.html", context, status=status)


@page_permission("view_assets")
def asset_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One asset: its record, MLR status form, status history and where it is used."""
    return _detail(request, _asset(code))


@require_POST
@page_permission("edit_asset")
def asset_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Edit the asset's fields (content only while draft or in review)."""
    asset = _asset(code)
    locked = services.effective_status(asset) not in (MlrStatus.DRAFT, MlrStatus.IN_REVIEW)
    form = AssetForm(
        request.POST, editing=True, locked=locked, may_set_expiry=_may_set_expiry(request.user)
    )
    if not form.is_valid():
        return _detail(request, asset, edit_form=form, status=400)
    try:
        services.update_asset(user=request.user, asset=asset, data=form.service_data())
    except DomainError as exc:
        errors = _to_fields(exc, form)
        return _detail(request, _asset(code), edit_form=form, errors=errors, status=exc.status)
    messages.success(request, f"Asset {asset.code} saved.")
    return redirect("content:asset_detail", code=asset.code)


@require_POST
@page_permission("view_assets")
def asset_status(request: HttpRequest, code: str) -> HttpResponse:
    """Record an MLR status; approval may set a new expiry date in the same step."""
    asset = _asset(code)
    values = {k: request.POST.get(k, "").strip() for k in ("status", "reason", "expires_at")}
    try:
        if values["status"] == MlrStatus.APPROVED and values["expires_at"]:
            asset = services.update_asset(
                user=request.user, asset=asset, data={"expires_at": values["expires_at"]}
            )
        services.set_asset_status(
            user=request.user,
            asset=asset,
            status=values["status"],
            reason=values["reason"],
            password=request.POST.get("password", ""),
            mlr_reference=request.POST.get("mlr_reference") or None,
        )
    except ReauthenticationRequired:
        # An SSO signer: the rules held; now re-authenticate at the provider.
        return begin_asset_status(
            request,
            asset=asset,
            status=values["status"],
            reason=values["reason"],
            mlr_reference=request.POST.get("mlr_reference") or "",
        )
    except DomainError as exc:
        return _detail(
            request,
            _asset(code),
            status_errors=list(exc.errors),
            status_values=values,
            status=exc.status,
        )
    messages.success(request, f"{asset.code} is now {values['status'].replace('_', ' ')}.")
    return redirect("content:asset_detail", code=asset.code)


@page_permission("create_asset")
def asset_import(request: HttpRequest) -> HttpResponse:
    """Compliance's bulk import of an MLR system's export: the import page, ``assets`` only.

    Assets arrive as drafts (docs/imports.md, "assets"); approval stays an
    e-signed record per asset.
    """
    return import_page(request, kinds=("assets",))
