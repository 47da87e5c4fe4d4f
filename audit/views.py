"""The audit log page (compliance, admin): filters, pages and the CSV download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.mixins import page_permission, sorted_page
from core.errors import DomainError, ErrorDetail

from . import selectors
from .exports import audit_csv
from .models import AuditEvent

AUDIT_FILTERS = ("object", "action", "actor", "since", "until")


@page_permission("view_audit")
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit log, filtered by object, action, actor and time; CSV with ?format=csv."""
    filters = {k: request.GET.get(k, "").strip() for k in AUDIT_FILTERS}
    errors: list[ErrorDetail] = []
    try:
        events = selectors.audit_events(**{k: v for k, v in filters.items() if v})
    except DomainError as exc:
        errors = list(exc.errors)
        events = AuditEvent.objects.none()
    if request.GET.get("format") == "csv" and not errors:
        return audit_csv(events, filename="audit-log.csv")
    page, sort = sorted_page(
        request,
        events,
        sorts=("id", "occurred_at", "action", "actor_username", "object_type"),
        default="-id",
        per_page=50,
    )
    actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(
        request,
        "audit/audit_list.html",
        {
            "page_obj": page,
            "sort": sort,
            "filters": filters,
            "errors": errors,
            "actions": list(actions),
        },
        status=400 if errors else 200,
    )
