"""Segment pages: dashboard, list, editor with rule builder and live preview.

Views parse input, call one service, and render. Every write goes through
``segmentation.services``, which checks roles, validates rules and records the
audit trail; the views only decide what to show. The lifecycle actions on a
segment (submit, activate, retire) are governance's pages.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.mixins import page_permission, sorted_page
from accounts.permissions import allowed
from core.errors import DomainError, ErrorDetail
from core.parsers import loads_bounded
from core.plain_errors import plain_message
from core.time import parse_moment
from core.words import plain, plain_list
from customers.models import Account, Customer
from customers.vocabularies import Channel, InteractionKind, Topic

from . import presentation, readable, selectors, services
from .forms import SegmentForm, initial_from_query, initial_from_version
from .models import Membership, MembershipChange, RecomputeRun, Segment, SegmentVersion
from .rules import field_catalog
from .rules.validate import validate_rule
from .tasks import request_recompute

SPARK_POINTS = 30
SPARK_DAYS = 90  # bounded: hourly runs would otherwise read years of rows


# --- list ------------------------------------------------------------------------


def _segment_queryset():
    latest = SegmentVersion.objects.filter(segment=OuterRef("pk")).order_by("-number")
    active = SegmentVersion.objects.filter(segment=OuterRef("pk"), state="active")
    return Segment.objects.annotate(
        latest_number=Subquery(latest.values("number")[:1]),
        latest_state=Subquery(latest.values("state")[:1]),
        latest_id=Subquery(latest.values("id")[:1]),
        name=Subquery(latest.values("name")[:1]),
        active_number=Subquery(active.values("number")[:1]),
        active_id=Subquery(active.values("id")[:1]),
        size=Coalesce(
            Subquery(active.values("member_count")[:1]),
            Subquery(latest.values("member_count")[:1]),
        ),
    )


def _week_changes(version_ids: list[int]) -> dict[int, dict[str, int]]:
    since = timezone.now() - timedelta(days=7)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"entry": 0, "exit": 0})
    rows = (
        MembershipChange.objects.filter(version_id__in=version_ids, as_of__gte=since)
        .values("version_id", "direction")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["version_id"]][row["direction"]] = row["n"]
    return counts


def _size_series(version_ids: list[int]) -> dict[int, list[int]]:
    series: dict[int, list[int]] = defaultdict(list)
    since = timezone.now() - timedelta(days=SPARK_DAYS)
    runs = (
        RecomputeRun.objects.filter(version_id__in=version_ids, as_of__gte=since)
        .order_by("as_of", "id")
        .values_list("version_id", "member_count")
    )
    for version_id, count in runs:
        series[version_id].append(count)
    return {k: v[-SPARK_POINTS:] for k, v in series.items()}


@page_permission("view_segments")
def segment_list(request: HttpRequest) -> HttpResponse:
    """All segments: status, active and latest version, size, this week's churn, trend."""
    qs = _segment_queryset()
    query = request.GET.get("q", "").strip()
    if query:
        qs = qs.filter(Q(key__icontains=query) | Q(name__icontains=query))
    state = request.GET.get("state", "")
    if state:
        qs = qs.filter(latest_state=state)
    page, sort = sorted_page(
        request, qs, sorts=("key", "name", "size", "latest_state", "created_at"), default="key"
    )
    shown = [s.active_id or s.latest_id for s in page]
    changes = _week_changes(shown)
    series = _size_series(shown)
    rows = []
    for seg in page:
        vid = seg.active_id or seg.latest_id
        rows.append(
            {
                "segment": seg,
                "entered": changes.get(vid, {}).get("entry", 0),
                "exited": changes.get(vid, {}).get("exit", 0),
                "spark": presentation.sparkline(series.get(vid, [])),
            }
        )
    return render(
        request,
        "segmentation/segment_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "sort": sort,
            "q": query,
            "state": state,
            "states": [s for s, _ in SegmentVersion._meta.get_field("state").choices],
        },
    )


# --- editor ----------------------------------------------------------------------


def _catalog(unit: str = "customer") -> list[dict]:
    return [f.as_dict() if hasattr(f, "as_dict") else dict(f) for f in field_catalog(unit)]


def builder_context(exclude_key: str | None = None) -> dict:
    """What the rule builder needs: the field catalogs (customer and account rules) and
    the event/rx vocabularies, and the segments a reference may name, by unit."""
    units = dict(Segment.objects.order_by("key").values_list("key", "unit"))
    keys = [k for k, unit in units.items() if unit == "customer"]
    account_keys = [k for k, unit in units.items() if unit == "account" and k != exclude_key]
    return {
        "field_catalog": _catalog(),
        "account_field_catalog": _catalog("account"),
        "builder_vocab": {
            "event": {
                "channel": list(Channel.values),
                "kind": list(InteractionKind.values),
                "topic": list(Topic.values),
                "asset": [],
            },
            "metrics": ["nrx", "trx", "new_patient_starts"],
            "segments": [k for k in keys if k != exclude_key],
            "account_segments": account_keys,
        },
    }


def _form_errors_from(exc: DomainError, form: SegmentForm | None = None) -> list[ErrorDetail]:
    """Put errors about plain fields next to them; rule errors (and the rest) stay in the
    list shown above the form and at the builder node their path names."""
    remaining = []
    for error in exc.errors:
        name = error.path.split(".")[0].split("[")[0]
        if form is not None and name in form.fields and name not in ("entry_rule", "exit_rule"):
            form.add_error(name, plain_message(error.message))
        else:
            remaining.append(error)
    return remaining


def _rule_errors_of(form: SegmentForm) -> list[ErrorDetail]:
    """The rules' problems when other fields are invalid, so every problem shows at once."""
    errors: list[ErrorDetail] = []
    for name in ("entry_rule", "exit_rule"):
        rule = form.cleaned_data.get(name)
        if rule is None:
            continue
        try:
            validate_rule(
                rule,
                path=name,
                segment_exists=lambda key: Segment.objects.filter(key=key).exists(),
            )
        except DomainError as exc:
            errors.extend(exc.errors)
    return errors


def error_context(errors: list[ErrorDetail]) -> dict:
    """Errors for the page, each shown once: plain-field and other errors in the list above
    the form; rule errors at their node in the builder (``rule_errors``), counted in the
    list and spelled out for readers without JavaScript (``rule_problems``)."""
    return {
        "errors": readable.readable_errors(e for e in errors if not readable.is_rule_error(e)),
        "rule_problems": readable.readable_errors(e for e in errors if readable.is_rule_error(e)),
        "rule_errors": readable.builder_errors(errors),
    }


def _scope_refusal(request: HttpRequest, form: SegmentForm) -> str:
    """The warning to confirm before saving a rule that selects everyone or no one."""
    if request.POST.get("confirm_scope") == "1":
        return ""
    data = form.cleaned_data
    shape = readable.scope_warning(data.get("entry_rule"))
    if shape:
        return shape
    unit_fields = form.unit_fields()
    noun = "account" if unit_fields["unit"] == "account" else "customer"
    total = (Account if noun == "account" else Customer).objects.count()
    if not total:
        return ""
    try:
        count = services.preview_rule(
            user=request.user,
            entry_rule=data.get("entry_rule"),
            exit_rule=data.get("exit_rule"),
            parent=data.get("parent") or None,
            with_missing=False,
            **unit_fields,
        ).count
    except DomainError:
        return ""  # the save reports the rule's errors
    if count == 0:
        return "As the data stands now, this rule selects no one."
    if count == total:
        return f"As the data stands now, this rule selects every {noun} ({total})."
    return ""


@page_permission("edit_segment")
def segment_new(request: HttpRequest) -> HttpResponse:
    """Create a segment: its first version is a draft."""
    errors: list[ErrorDetail] = []
    scope_warning = ""
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid() and not (scope_warning := _scope_refusal(request, form)):
            try:
                services.segment_create(user=request.user, **form.service_fields())
            except DomainError as exc:
                errors = _form_errors_from(exc, form)
            else:
                messages.success(request, "Draft version 1 saved.")
                return redirect("segmentation:segment_detail", key=form.cleaned_data["key"])
        elif form.errors:
            errors = _rule_errors_of(form)
    else:
        form = SegmentForm(initial=initial_from_query(request.GET))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "segmentation/segment_edit.html",
        {
            "form": form,
            **error_context(errors),
            "scope_warning": scope_warning,
            "is_new": True,
            **builder_context(),
        },
        status=status,
    )


def _version_or_404(segment: Segment, number: str | None) -> SegmentVersion | None:
    if not number:
        return None
    try:
        return segment.versions.get(number=int(number))
    except (ValueError, SegmentVersion.DoesNotExist):
        raise Http404("No such version") from None


def _rejection(version: SegmentVersion | None):
    """The rejecting signature that sent this draft back (the latest one), or None.

    Read through the version's ``signatures`` relation, so segmentation needs no
    import of governance (docs/architecture.md).
    """
    if version is None or version.state != "draft":
        return None
    rejects = [s for s in version.signatures.all() if s.decision == "reject"]
    return max(rejects, key=lambda s: s.signed_at, default=None)


def daily_sizes(version: SegmentVersion, days: int) -> list[tuple[str, int]]:
    """One point per day of the last ``days``: the size as of that day. A run is recorded
    only when membership changed, so a day without one carries the last size forward."""
    today = timezone.now().date()
    since = timezone.now() - timedelta(days=days)
    runs = RecomputeRun.objects.filter(version=version).order_by("as_of", "id")
    before = runs.filter(as_of__lt=since).values_list("member_count", flat=True).last()
    per_day = {
        as_of.date(): count
        for as_of, count in runs.filter(as_of__gte=since).values_list("as_of", "member_count")
    }
    series, last = [], before
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        last = per_day.get(day, last)
        if last is not None:
            series.append((day.isoformat(), last))
    return series


def _history_context(version: SegmentVersion | None) -> dict:
    """Size over the last 90 days (one point per day, as of that day) and recent changes."""
    if version is None:
        return {"size_chart": "", "recent_changes": []}
    days = dict(daily_sizes(version, SPARK_DAYS))
    recent = (
        MembershipChange.objects.filter(version=version)
        .select_related("customer")
        .order_by("-as_of", "-id")[:15]
    )
    return {
        "size_chart": presentation.line_chart(
            {version.segment.key: sorted(days.items())},
            label=f"Members of v{version.number}, last {SPARK_DAYS} days",
        )
        if days
        else "",
        "recent_changes": list(recent),
        "history_version": version,
    }


@page_permission("view_segments")
def segment_detail(request: HttpRequest, key: str) -> HttpResponse:
    """The editor (brand, admin) or read-only view (others) of a segment, with history."""
    segment = get_object_or_404(Segment, key=key)
    versions = list(
        segment.versions.select_related("author", "parent")
        .prefetch_related("signatures")
        .order_by("-number")
    )
    latest = versions[0] if versions else None
    active = next((v for v in versions if v.state == "active"), None)
    can_edit = allowed(request.user, "edit_segment")
    errors: list[ErrorDetail] = []
    status = 200
    scope_warning = ""

    if request.method == "POST":
        if not can_edit:
            return render(
                request, "403.html", {"exception": "Your roles cannot edit segments."}, status=403
            )
        form = SegmentForm(request.POST, editing=segment)
        if form.is_valid() and (scope_warning := _scope_refusal(request, form)):
            status = 400
        elif form.is_valid():
            try:
                services.segment_update(user=request.user, segment=segment, **form.service_fields())
            except DomainError as exc:
                errors = _form_errors_from(exc, form)
                status = exc.status
            else:
                messages.success(request, "Draft saved.")
                return redirect("segmentation:segment_detail", key=segment.key)
        else:
            errors = _rule_errors_of(form)
            status = 400
    else:
        form = SegmentForm(initial=initial_from_version(latest), editing=segment)

    diff_of = _version_or_404(segment, request.GET.get("diff")) or latest
    previous = next((v for v in versions if v.number < diff_of.number), None)
    can_recompute = allowed(request.user, "recompute_segment")
    context = {
        "explained": (
            services.membership_explained(user=request.user, version=active) if active else None
        ),
        "active_exit_sentence": (
            presentation.describe_rule(active.exit_rule) if active and active.exit_rule else ""
        ),
        "can_recompute": can_recompute,
        "recompute_version": selectors.version_for_recompute(segment) if can_recompute else None,
        "edit_open": status != 200 or request.GET.get("edit") == "1",
        "diff_words": _diff_words(previous, diff_of) if previous else [],
        "segment": segment,
        "versions": versions,
        "latest": latest,
        "active": active,
        "form": form,
        **error_context(errors),
        "scope_warning": scope_warning,
        "can_edit": can_edit,
        "rejection": _rejection(latest),
        "can_see_content": allowed(request.user, "view_mappings"),
        "can_backtest": allowed(request.user, "view_members"),
        "can_submit": allowed(request.user, "submit_segment") and latest.state == "draft",
        "can_activate": allowed(request.user, "activate_segment") and latest.state == "approved",
        "can_retire": allowed(request.user, "retire_segment") and active is not None,
        "diff_of": diff_of,
        "diff_against": previous,
        "diff": presentation.version_diff(previous, diff_of),
        "entry_sentence": presentation.describe_rule(latest.entry_rule),
        "exit_sentence": presentation.describe_rule(latest.exit_rule) if latest.exit_rule else "",
        **builder_context(exclude_key=segment.key),
        **_history_context(active or (latest if latest.state != "draft" else None)),
        **_account_members_context(segment, active or latest),
    }
    return render(request, "segmentation/segment_detail.html", context, status=status)


def _diff_words(old: SegmentVersion, new: SegmentVersion) -> list[tuple[str, str, str]]:
    """The definition of two versions side by side, in words."""

    def words(version):
        return {
            "Name": version.name,
            "Enters when": presentation.describe_rule(version.entry_rule),
            "Leaves when": (
                presentation.describe_rule(version.exit_rule) if version.exit_rule else ""
            ),
            "Purpose": plain(version.purpose),
            "Indications": plain_list(version.indications),
            "Parent": version.parent.key if version.parent_id else "",
        }

    before, after = words(old), words(new)
    return [(label, before[label], after[label]) for label in after]


@require_POST
@page_permission("recompute_segment")
def segment_recompute(request: HttpRequest, key: str) -> HttpResponse:
    """Recompute a version's membership from its page (now when eager, else queued)."""
    segment = get_object_or_404(Segment, key=key)
    version = _version_or_404(segment, request.POST.get("version")) or (
        selectors.version_for_recompute(segment)
    )
    outcome = request_recompute(version=version, user=request.user)
    if isinstance(outcome, str):
        messages.success(request, f"Recompute of v{version.number} queued; refresh in a moment.")
    else:
        messages.success(
            request,
            f"Recomputed v{version.number}: {outcome.entered} entered, {outcome.exited} left, "
            f"{outcome.member_count} members.",
        )
    return redirect("segmentation:segment_detail", key=segment.key)


ACCOUNT_MEMBERS_SHOWN = 50


def _account_members_context(segment: Segment, version: SegmentVersion) -> dict:
    """An account segment's member accounts (the first 50), each with its affiliated
    customers, shown on demand."""
    if segment.unit != "account":
        return {"account_members": None}
    members = list(selectors.account_members_of(version=version)[:ACCOUNT_MEMBERS_SHOWN])
    customers = defaultdict(list)
    for c in Customer.objects.filter(account_id__in=[m.account_id for m in members]).order_by(
        "last_name", "npi"
    ):
        customers[c.account_id].append(c)
    for m in members:
        m.customers = customers[m.account_id]
    return {"account_members": members, "account_members_version": version}


@require_POST
@page_permission("view_members")
def segment_backtest(request: HttpRequest, key: str) -> HttpResponse:
    """htmx: "as of a past date", a backtest of the version the page charts; writes nothing."""
    segment = get_object_or_404(Segment, key=key)
    version = _version_or_404(
        segment, request.POST.get("version")
    ) or selectors.version_for_recompute(segment)
    errors: list[ErrorDetail] = []
    result = None
    try:
        as_of = parse_moment(request.POST.get("as_of", ""), path="as_of")
        result = services.backtest_version(user=request.user, version=version, as_of=as_of)
    except DomainError as exc:
        errors = list(exc.errors)
    context = {**error_context(errors), "backtest": result, "segment": segment}
    template = (
        "segmentation/partials/backtest.html" if request.htmx else "segmentation/backtest.html"
    )
    return render(request, template, context, status=400 if errors else 200)


@require_POST
@page_permission("preview_segment")
def rule_preview(request: HttpRequest) -> HttpResponse:
    """htmx: size, sample and missing-field shares for the rules being edited (not saved)."""
    rules: dict = {}
    errors: list[ErrorDetail] = []
    for name in ("entry_rule", "exit_rule"):
        raw = request.POST.get(name, "").strip()
        if not raw:
            rules[name] = None
            continue
        try:
            rules[name] = loads_bounded(raw)
        except json.JSONDecodeError as exc:
            errors.append(ErrorDetail(path=name, message=f"not valid JSON: {exc.msg}"))
        except ValueError as exc:  # NUL characters, nesting too deep, NaN
            errors.append(ErrorDetail(path=name, message=str(exc)))
    if rules.get("entry_rule") is None and not errors:
        errors.append(ErrorDetail(path="entry_rule", message="an entry rule is required"))
    unit = request.POST.get("unit") or "customer"
    if request.POST.get("segment"):
        unit = (
            Segment.objects.filter(key=request.POST["segment"])
            .values_list("unit", flat=True)
            .first()
            or unit
        )
    result = None
    if not errors:
        try:
            result = services.preview_rule(
                user=request.user,
                entry_rule=rules["entry_rule"],
                exit_rule=rules["exit_rule"],
                parent=request.POST.get("parent") or None,
                unit=unit,
                rollup=(request.POST.get("rollup") or None) if unit == "account" else None,
            )
        except DomainError as exc:
            errors = list(exc.errors)
    context = {**error_context(errors), "result": _preview_view(result), "unit": unit}
    if result is not None:
        context["total"] = (Account if unit == "account" else Customer).objects.count()
        # The rule in plain English, live as it is edited.
        context["entry_sentence"] = presentation.describe_rule(rules["entry_rule"])
        if rules.get("exit_rule") is not None:
            context["exit_sentence"] = presentation.describe_rule(rules["exit_rule"])
    return render(
        request, "segmentation/partials/preview.html", context, status=400 if errors else 200
    )


def _preview_view(result) -> dict | None:
    """Normalise the preview result (dataclass or dict) for the template."""
    if result is None:
        return None
    if not isinstance(result, dict):
        result = {k: getattr(result, k, None) for k in ("count", "sample", "missing", "breakdown")}
    missing = result.get("missing") or {}
    if isinstance(missing, dict):
        missing = sorted(missing.items())
    return {
        "count": result.get("count"),
        "sample": result.get("sample") or [],
        "missing": missing,
        "breakdown": presentation.bars(result.get("breakdown") or {}),
    }


# --- dashboard -------------------------------------------------------------------


def overlap_matrix(versions: list[SegmentVersion]) -> list[dict]:
    """Shared member counts between every pair of the given versions (one query)."""
    ids = [v.id for v in versions]
    # A self-join of memberships on customer, grouped by the pair of versions.
    rows = (
        Membership.objects.filter(version_id__in=ids, customer__memberships__version_id__in=ids)
        .values("version_id", other_version=F("customer__memberships__version_id"))
        .annotate(n=Count("id"))
    )
    counts = {(r["version_id"], r["other_version"]): r["n"] for r in rows}
    return [
        {
            "version": a,
            "cells": [{"version": b, "count": counts.get((a.id, b.id), 0)} for b in versions],
        }
        for a in versions
    ]


@page_permission("view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    """Active segments: size over time, entries/exits per day, overlap matrix."""
    days = 30
    since = timezone.now() - timedelta(days=days)
    active = list(
        SegmentVersion.objects.filter(state="active")
        .select_related("segment")
        .order_by("segment__key")
    )
    ids = [v.id for v in active]
    size_series = {v.segment.key: dict(daily_sizes(v, days)) for v in active}
    size_series = {k: v for k, v in size_series.items() if v}
    flows = (
        MembershipChange.objects.filter(version_id__in=ids, as_of__gte=since)
        .annotate(day=TruncDate("as_of"))
        .values("day", "direction")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in flows:
        per_day[str(row["day"])][0 if row["direction"] == "entry" else 1] += row["n"]
    context = {
        "active": active,
        "size_chart": presentation.line_chart(
            {k: sorted(v.items()) for k, v in size_series.items()},
            label="Segment sizes over the last 30 days",
        ),
        "legend": [
            (key, presentation.PALETTE[i % len(presentation.PALETTE)])
            for i, key in enumerate(size_series)
        ],
        "flow_chart": presentation.bar_chart(
            [(d, a, b) for d, (a, b) in sorted(per_day.items())],
            label="Entries and exits per day",
        ),
        "flow_rows": sorted(per_day.items()),
        "overlap": overlap_matrix(active),
        "days": days,
    }
    return render(request, "segmentation/dashboard.html", context)
