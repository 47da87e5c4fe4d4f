"""Governance pages: the sign-off queue and review, the lifecycle actions, the audit log.

Submitting, signing, activating and retiring are done by ``governance.services``;
these views only collect input, call them and show the result (errors included)
next to the form.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import SIGNING_TEAMS, allowed
from accounts.signing import ReauthenticationRequired
from audit import selectors as audit_selectors
from audit.exports import audit_csv
from audit.models import AuditEvent
from core.errors import DomainError, ErrorDetail, ValidationFailed
from segmentation import compare, presentation
from segmentation.models import Segment, SegmentVersion, VersionState
from segmentation.services import preview_rule, version_impact

from . import inbox, services
from .models import Decision, Signature
from .reauth import begin_version_signature
from .services import sign_version, signature_meaning


def _live_signatures(version: SegmentVersion) -> list[Signature]:
    return [s for s in version.signatures.all() if s.voided_at is None]


def _team_status(version: SegmentVersion) -> dict[str, Signature | None]:
    """For each signing team, its approving signature in this round (None: still awaited)."""
    status: dict[str, Signature | None] = dict.fromkeys(SIGNING_TEAMS)
    for sig in _live_signatures(version):
        if sig.decision == Decision.APPROVE:
            status[sig.team] = sig
    return status


# --------------------------------------------------------------------------- reviews


@page_permission("view_reviews")
def review_list(request: HttpRequest) -> HttpResponse:
    """Versions in review still awaiting an approval from one of the user's teams."""
    my_teams = [t for t in SIGNING_TEAMS if request.user.has_role(t)]
    show_all = request.user.has_role("admin") or request.GET.get("all") == "1"
    versions = (
        SegmentVersion.objects.filter(state=VersionState.IN_REVIEW)
        .select_related("segment", "author")
        .prefetch_related(Prefetch("signatures", queryset=Signature.objects.order_by("signed_at")))
        .order_by("submitted_at", "id")
    )
    rows = []
    for version in versions:
        status = _team_status(version)
        awaiting = [t for t, sig in status.items() if sig is None]
        awaiting_mine = [t for t in awaiting if t in my_teams]
        if not awaiting_mine and not show_all:
            continue
        rows.append(
            {
                "version": version,
                "status": status,
                "awaiting": awaiting,
                "awaiting_mine": awaiting_mine,
                "authored": version.author_id == request.user.pk,
            }
        )
    return render(
        request,
        "governance/review_list.html",
        {"rows": rows, "my_teams": my_teams, "show_all": show_all},
    )


def _version(key: str, number: int) -> SegmentVersion:
    version = (
        SegmentVersion.objects.select_related("segment", "author", "parent")
        .prefetch_related("signatures")
        .filter(segment__key=key, number=number)
        .first()
    )
    if version is None:
        raise Http404("No such version")
    return version


def _overlaps(request: HttpRequest, version: SegmentVersion) -> list[dict]:
    """Shared members with every other active segment, asked of the preview service.

    The version's rules AND a reference to the other segment (docs/rules.md: a
    reference means its current members) counts the customers both would hold.
    """

    rows = []
    others = (
        SegmentVersion.objects.filter(state=VersionState.ACTIVE)
        .select_related("segment")
        .order_by("segment__key")
    )
    for other in others:
        try:
            shared = preview_rule(
                user=request.user,
                entry_rule={"all": [version.entry_rule, {"segment": other.segment.key}]},
                exit_rule=version.exit_rule,
                parent=version.parent.key if version.parent_id else None,
            ).count
        except DomainError:
            shared = None
        rows.append({"key": other.segment.key, "size": other.member_count, "shared": shared})
    return rows


def _review_context(request: HttpRequest, version: SegmentVersion) -> dict:

    active = (
        SegmentVersion.objects.filter(segment=version.segment, state=VersionState.ACTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    labels = presentation.field_labels()
    preview, preview_errors = None, []
    try:
        preview = preview_rule(
            user=request.user,
            entry_rule=version.entry_rule,
            exit_rule=version.exit_rule,
            parent=version.parent.key if version.parent_id else None,
        )
    except DomainError as exc:
        preview_errors = exc.errors
    my_teams = [t for t in SIGNING_TEAMS if request.user.has_role(t)]
    meanings = {
        team: {d: signature_meaning(team=team, decision=d) for d in Decision.values}
        for team in my_teams
    }
    return {
        "version": version,
        "segment": version.segment,
        "active": active,
        "entry_sentence": presentation.describe_rule(version.entry_rule, labels),
        "exit_sentence": (
            presentation.describe_rule(version.exit_rule, labels) if version.exit_rule else ""
        ),
        "diff": presentation.version_diff(active, version),
        "changes": (changes := compare.compare_versions(active, version)),
        "rule_sides": [("Entry rule", changes["entry"]), ("Exit rule", changes["exit"])],
        "preview": preview,
        "preview_errors": preview_errors,
        "signatures": list(version.signatures.all().order_by("signed_at")),
        "team_status": _team_status(version),
        "my_teams": my_teams,
        "meanings_json": json.dumps(meanings),
        "meanings": meanings,
        "can_sign": allowed(request.user, "sign_segment")
        and version.state == "in_review"
        and not services.is_version_author(version=version, user=request.user),
        "is_author": services.is_version_author(version=version, user=request.user),
    }


@page_permission("view_reviews")
def review_detail(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """One version in review: rules in English, diff, size, overlaps, signatures, sign form."""

    version = _version(key, number)
    errors: list[ErrorDetail] = []
    status = 200
    form_values = {"team": "", "decision": "", "comment": ""}
    if request.method == "POST":
        form_values = {k: request.POST.get(k, "").strip() for k in form_values}
        if not allowed(request.user, "sign_segment"):
            errors = [ErrorDetail("", "Your roles cannot sign segment versions.")]
            status = 403
        else:
            try:
                sign_version(
                    user=request.user,
                    version=version,
                    team=form_values["team"],
                    decision=form_values["decision"],
                    comment=form_values["comment"],
                    password=request.POST.get("password", ""),
                )
            except ReauthenticationRequired:
                # An SSO signer: the rules held; now re-authenticate at the provider.
                return begin_version_signature(
                    request,
                    version=version,
                    team=form_values["team"],
                    decision=form_values["decision"],
                    comment=form_values["comment"],
                )
            except DomainError as exc:
                errors, status = list(exc.errors), exc.status
            else:
                verb = "approved" if form_values["decision"] == "approve" else "rejected"
                messages.success(
                    request,
                    f"You {verb} {key} v{number} for the {form_values['team']} team.",
                )
                return redirect("governance:review_list")
        version = _version(key, number)
    context = _review_context(request, version)
    context.update({"errors": errors, "form_values": form_values})
    return render(request, "governance/review_detail.html", context, status=status)


@page_permission("view_reviews")
def review_overlap(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """htmx fragment: overlap with active segments (loaded after the page, it costs a preview
    per active segment)."""
    version = _version(key, number)
    return render(
        request, "governance/partials/overlap.html", {"overlaps": _overlaps(request, version)}
    )


@page_permission("view_dashboard")
def dashboard_inbox(request: HttpRequest) -> HttpResponse:
    """htmx fragment for the dashboard: versions awaiting my signature, my rejected versions,
    my decided proposals, revoked mappings, my imports."""
    return render(request, "governance/partials/inbox.html", inbox.inbox(user=request.user))


@page_permission("view_inbox")
def inbox_page(request: HttpRequest) -> HttpResponse:
    """The inbox as a page: the landing page of roles without a dashboard (compliance)."""
    return render(request, "governance/inbox.html", inbox.inbox(user=request.user))


@page_permission("view_reviews")
def review_impact(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """htmx fragment: customers this version adds and drops against the active version, by
    territory and specialty (loaded after the page: it evaluates the rules)."""
    version = _version(key, number)
    active = (
        SegmentVersion.objects.filter(segment=version.segment, state=VersionState.ACTIVE)
        .exclude(pk=version.pk)
        .first()
    )
    impact = version_impact(user=request.user, version=version, against=active)
    rows = []
    for direction, total, groups in (
        ("added", impact.added, impact.added_by),
        ("dropped", impact.dropped, impact.dropped_by),
    ):
        for dimension, items in groups.items():
            top = max((n for _, n in items), default=0) or 1
            rows.append(
                {
                    "direction": direction,
                    "dimension": dimension,
                    "total": total,
                    "bars": [(label, n, round(100 * n / top)) for label, n in items],
                }
            )
    labels = presentation.field_labels()

    def sentence(rule):
        return presentation.describe_rule(rule, labels) if rule else ""

    return render(
        request,
        "governance/partials/impact.html",
        {
            "impact": impact,
            "active": active,
            "version": version,
            "groups": rows,
            "new_entry": sentence(version.entry_rule),
            "new_exit": sentence(version.exit_rule),
            "old_entry": sentence(active.entry_rule) if active else "",
            "old_exit": sentence(active.exit_rule) if active else "",
        },
    )


# --------------------------------------------------------------------------- lifecycle actions


@require_POST
@page_permission("submit_segment")
def segment_submit(request: HttpRequest, key: str) -> HttpResponse:
    """Submit the draft for review (the service validates and takes a fresh preview)."""
    segment = get_object_or_404(Segment, key=key)
    version = services.version_for_action(segment=segment, state="draft")
    services.submit_version(user=request.user, version=version)
    messages.success(request, f"Version {version.number} submitted for review.")
    return redirect("segmentation:segment_detail", key=segment.key)


@require_POST
@page_permission("activate_segment")
def segment_activate(request: HttpRequest, key: str) -> HttpResponse:
    """Activate the approved version; the previous active one is superseded."""
    segment = get_object_or_404(Segment, key=key)
    version = services.version_for_action(segment=segment, state="approved")
    services.activate_version(user=request.user, version=version)
    messages.success(request, f"Version {version.number} is now active.")
    return redirect("segmentation:segment_detail", key=segment.key)


@require_POST
@page_permission("retire_segment")
def segment_retire(request: HttpRequest, key: str) -> HttpResponse:
    """Retire the active version (its content mappings are revoked by the service).

    The page requires a reason: brand and compliance read it on every revoked mapping.
    """
    segment = get_object_or_404(Segment, key=key)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        raise ValidationFailed("say why the segment is retired", path="reason")
    version = services.version_for_action(segment=segment, state="active")
    services.retire_version(user=request.user, version=version, reason=reason)
    messages.success(request, f"Version {version.number} retired.")
    return redirect("segmentation:segment_detail", key=segment.key)


# --------------------------------------------------------------------------- audit log

AUDIT_FILTERS = ("object", "action", "actor", "since", "until")


@page_permission("view_audit")
def audit_list(request: HttpRequest) -> HttpResponse:
    """The audit log, filtered by object, action, actor and time; CSV with ?format=csv."""
    filters = {k: request.GET.get(k, "").strip() for k in AUDIT_FILTERS}
    errors: list[ErrorDetail] = []
    try:
        events = audit_selectors.audit_events(**{k: v for k, v in filters.items() if v})
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
        "governance/audit_list.html",
        {
            "page_obj": page,
            "sort": sort,
            "filters": filters,
            "errors": errors,
            "actions": list(actions),
        },
        status=400 if errors else 200,
    )
