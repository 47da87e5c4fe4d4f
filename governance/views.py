"""Governance pages: the sign-off queue, the mapping queue and the audit log.

Signing, deciding and filtering are done by ``governance.services``,
``content.services`` and ``governance.selectors``; these views only collect
input, call them and show the result (errors included) next to the form.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import allowed
from core.errors import DomainError, ErrorDetail
from segmentation import presentation
from segmentation.models import SegmentVersion, VersionState

from .models import Decision, Signature, Team

SIGNING_TEAMS = tuple(Team.values)


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

    The version's rules AND a reference to the other segment (rules.md: a
    reference means its current members) counts the customers both would hold.
    """
    from segmentation.services import preview_rule

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
    from governance.services import signature_meaning
    from segmentation.services import preview_rule

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
        "preview": preview,
        "preview_errors": preview_errors,
        "signatures": list(version.signatures.all().order_by("signed_at")),
        "team_status": _team_status(version),
        "my_teams": my_teams,
        "meanings_json": json.dumps(meanings),
        "meanings": meanings,
        "can_sign": allowed(request.user, "sign_segment") and version.state == "in_review",
    }


@page_permission("view_reviews")
def review_detail(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """One version in review: rules in English, diff, size, overlaps, signatures, sign form."""
    from governance.services import sign_version

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


# --------------------------------------------------------------------------- mappings

GUARDS = (
    (1, "Asset approved and not expired"),
    (2, "Audience fits the segment (HCP)"),
    (3, "Intent fits the segment's purpose"),
    (4, "No off-label indication (promotional)"),
)


def guard_results(mapping) -> list[dict]:
    """Each guard of governance.md with pass/fail, from content.services' guard check."""
    from content.services import mapping_guard_errors, mapping_target_version

    try:
        version = mapping_target_version(mapping.segment)
    except DomainError as exc:
        return [
            {
                "number": 0,
                "label": "Segment has an active or approved version",
                "ok": False,
                "messages": [str(e.message) for e in exc.errors],
            }
        ]
    failures = mapping_guard_errors(asset=mapping.asset, version=version)
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
    from content.models import MappingState
    from content.selectors import mapping_list as select_mappings

    state = request.GET.get("state", "proposed")
    if state not in MappingState.values and state != "all":
        state = "proposed"
    qs = select_mappings(state=None if state == "all" else state)
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
        "governance/mapping_list.html",
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
    from content.models import ContentMapping
    from content.services import decide_mapping, mapping_meaning

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
            decide_mapping(
                user=request.user,
                mapping=mapping,
                decision=form_values["decision"],
                comment=form_values["comment"],
                password=request.POST.get("password", ""),
            )
        except DomainError as exc:
            errors, status = list(exc.errors), exc.status
        else:
            verb = "approved" if form_values["decision"] == "approve" else "rejected"
            messages.success(
                request, f"Mapping {mapping.asset.code} → {mapping.segment.key} {verb}."
            )
            return redirect("governance:mapping_list")
        mapping.refresh_from_db()
    return render(
        request,
        "governance/mapping_detail.html",
        {
            "mapping": mapping,
            "guards": guard_results(mapping),
            "errors": errors,
            "form_values": form_values,
            "can_decide": allowed(request.user, "decide_mapping") and mapping.state == "proposed",
            "meanings": {d: mapping_meaning(d) for d in ("approve", "reject")},
        },
        status=status,
    )
