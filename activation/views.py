"""Activation pages (docs/activation.md, "Pages"): the segment page's publications panel
(loaded by htmx), the destinations page (admin) and the delivery log.

Every page asks the permission table and calls the same services as the API.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.mixins import page_permission
from accounts.permissions import allowed
from core.errors import DomainError
from customers.vocabularies import Channel
from segmentation.models import Segment, VersionState

from . import selectors, services
from .charts import lift_chart, rx_chart, rx_lift_chart, weekly_chart
from .models import DestinationKind, Publication
from .services import destinations as destination_services
from .services import publication_gate


def _panel(request: HttpRequest, segment: Segment, *, errors=None, status: int = 200):
    publications = list(selectors.publication_list(segment=segment.key))
    rows = []
    for publication in publications:
        measurement = services.publication_measurement(publication=publication)
        gate = publication_gate(publication) if publication.state == "paused" else None
        rows.append(
            {
                "publication": publication,
                # Resume is offered only when the gate is open; else why it is closed.
                "gate_closed": gate.message if gate is not None and gate.closed_reason else "",
                "health": selectors.delivery_health(publication),
                "measurement": measurement,
                "chart": weekly_chart(measurement),
                "lift": lift_chart(measurement),
                "rx_chart": rx_chart(measurement),
                "rx_lift": rx_lift_chart(measurement),
            }
        )
    context = {
        "segment": segment,
        "rows": rows,
        "errors": errors or [],
        "destinations": list(selectors.destination_list()),
        # Only an active segment can be published (drafts and versions in review cannot).
        "can_publish": allowed(request.user, "publish_segment")
        and segment.versions.filter(state=VersionState.ACTIVE).exists(),
        "can_sync": allowed(request.user, "sync_publication"),
        "can_pause": allowed(request.user, "pause_publication"),
        "can_resume": allowed(request.user, "resume_publication"),
    }
    return render(request, "activation/partials/publications_panel.html", context, status=status)


@page_permission("view_publications")
def publications_panel(request: HttpRequest, key: str) -> HttpResponse:
    """The "Publications" panel of the segment page, as an htmx fragment."""
    return _panel(request, get_object_or_404(Segment, key=key))


@page_permission("view_assets")
def withdrawal_preview(request: HttpRequest, code: str) -> HttpResponse:
    """The asset page's "what withdrawing pauses": live publications that lose this asset."""
    return render(
        request,
        "activation/partials/withdrawal_preview.html",
        {"rows": selectors.publications_losing_asset(asset_code=code)},
    )


@page_permission("publish_segment")
def holdout_power(request: HttpRequest, key: str) -> HttpResponse:
    """The Publish form's "what this holdout could detect", as an htmx fragment."""
    segment = get_object_or_404(Segment, key=key)
    destination = selectors.destination_list().filter(key=request.GET.get("destination", ""))
    destination = destination.first() or selectors.destination_list().first()
    try:
        percent = int(request.GET.get("holdout_percent") or 0)
    except ValueError:
        percent = 0
    power = None
    if destination is not None:
        power = services.holdout_power(
            segment=segment, channel=destination.channel, holdout_percent=min(max(percent, 0), 50)
        )
    return render(request, "activation/partials/holdout_power.html", {"power": power})


@require_POST
@page_permission("view_publications")
def publish(request: HttpRequest, key: str) -> HttpResponse:
    segment = get_object_or_404(Segment, key=key)
    holdout = request.POST.get("holdout_percent", "").strip() or "0"
    try:
        holdout_value = int(holdout)
    except ValueError:
        holdout_value = holdout
    try:
        services.create_publication(
            user=request.user,
            segment=segment,
            destination_key=request.POST.get("destination", ""),
            holdout_percent=holdout_value,
        )
    except DomainError as exc:
        return _panel(request, segment, errors=exc.errors, status=exc.status)
    return _panel(request, segment)


@require_POST
@page_permission("view_publications")
def publication_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Sync now, pause or resume from the panel; answers the re-rendered panel."""
    publication = get_object_or_404(Publication.objects.select_related("segment"), pk=pk)
    try:
        if action == "sync":
            services.request_sync(user=request.user, publication=publication)
        elif action == "pause":
            services.pause_publication(
                user=request.user, publication=publication, reason=request.POST.get("reason", "")
            )
        elif action == "resume":
            services.resume_publication(user=request.user, publication=publication)
        else:
            return HttpResponse(status=404)
    except DomainError as exc:
        if not request.htmx:
            raise
        return _panel(request, publication.segment, errors=exc.errors, status=exc.status)
    if request.htmx:
        return _panel(request, publication.segment)
    return redirect("segmentation:segment_detail", key=publication.segment.key)


@require_http_methods(["GET", "POST"])
@page_permission("manage_destinations")
def destination_list(request: HttpRequest) -> HttpResponse:
    """Destinations (admin): the list and a form to add one."""
    errors = []
    status = 200
    form = {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in destination_services.FIELDS}
        data = {k: v for k, v in form.items() if v != ""}
        try:
            services.create_destination(user=request.user, data=data)
        except DomainError as exc:
            errors, status = exc.errors, exc.status
        else:
            messages.success(request, f"Destination {form['key']} added.")
            return redirect("activation:destination_list")
    form.pop("secret", None)
    return render(
        request,
        "activation/destination_list.html",
        {
            "destinations": selectors.destination_list(),
            "errors": errors,
            "form": form,
            "channels": Channel.values,
            "kinds": DestinationKind.values,
            "file_root": destination_services.file_root(),
        },
        status=status,
    )


@page_permission("view_deliveries")
def delivery_log(request: HttpRequest) -> HttpResponse:
    """Deliveries: syncs waiting or failing with their next retry, and the attempt log."""
    failed_only = request.GET.get("failed") == "1"
    return render(
        request,
        "activation/delivery_log.html",
        {
            "waiting": selectors.waiting_syncs()[:200],
            "attempts": selectors.delivery_log(failed_only=failed_only)[:200],
            "failed_only": failed_only,
        },
    )
