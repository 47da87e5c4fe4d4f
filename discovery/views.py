"""Discovery pages (docs/discovery.md): "Start from a list", "Find personas", differentiators.

Views parse the form, call one service and render; a refusal (DomainError) is
shown next to the form. Results are rendered as htmx fragments, or inside the
full page when the browser posts without htmx. With workers (Celery not eager)
the request is checked, a job is queued as the API does, and the page polls
the job (the record ``GET /api/v1/tasks/{id}/`` reads) until the result is in.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from accounts.mixins import page_permission
from core.errors import DomainError, ErrorDetail, ValidationFailed
from core.jobs import job_get
from core.models import JobState
from segmentation.selectors import segment_get, segment_list

from . import services
from .learning import Scores
from .learning import verdict as learned_verdict
from .selectors import run_get
from .table import FAMILIES
from .tasks import DESCRIBE_KIND, PERSONAS_KIND, queue_describe, queue_personas

PARTIALS = {
    DESCRIBE_KIND: "discovery/partials/describe_result.html",
    PERSONAS_KIND: "discovery/partials/personas_result.html",
}

TOKEN_SPLIT = re.compile(r"[\s,;]+")
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


def draft_url(*, rule: dict, provenance: dict, name: str) -> str:
    """The rule builder's new-segment page prefilled with a suggestion ("Open as draft")."""
    query = urlencode(
        {
            "name": name[:200],
            "entry_rule": json.dumps(rule),
            "provenance": json.dumps(provenance),
        }
    )
    return f"{reverse('segmentation:segment_new')}?{query}"


def _npis_from(request: HttpRequest) -> list[str]:
    """NPIs pasted and/or uploaded (a text or CSV file); a header cell "npi" is skipped."""
    text = request.POST.get("npis", "")
    upload = request.FILES.get("file")
    if upload is not None:
        text += "\n" + upload.read(MAX_UPLOAD_BYTES).decode("utf-8", "replace")
    tokens = [t.strip().strip('"') for t in TOKEN_SPLIT.split(text)]
    return [t for t in tokens if t and t.lower() != "npi"]


def _int_or_none(raw: str | None, path: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed(f"'{raw}' is not a whole number", path=path) from None


def _as_of(raw: str | None):
    if not raw:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        raise ValidationFailed(f"'{raw}' is not an ISO 8601 date-time", path="as_of")
    return parsed


def _context(**extra) -> dict:
    return {
        "segments": [s.key for s in segment_list()],
        "families": FAMILIES,
        **extra,
    }


def _answer(request: HttpRequest, partial: str, context: dict, status: int) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, partial, context, status=status)
    return render(request, "discovery/home.html", _context(**context), status=status)


@require_GET
@page_permission("run_discovery")
def discovery_home(request: HttpRequest) -> HttpResponse:
    return render(request, "discovery/home.html", _context())


def _profile_rows(profile: list[dict]) -> list[dict]:
    rows = []
    for item in profile:
        top = max(abs(item["persona_mean"]), abs(item["population_mean"])) or 1.0
        rows.append(
            {
                **item,
                "persona_width": round(abs(item["persona_mean"]) / top * 100),
                "population_width": round(abs(item["population_mean"]) / top * 100),
            }
        )
    return rows


def _workers() -> bool:
    """True when Celery hands tasks to workers (REDIS_URL set); eager mode runs them in-request."""
    return not settings.CELERY_TASK_ALWAYS_EAGER


VERDICT_WORDS = {
    "describes": (
        "This rule describes your list",
        "The rule finds most of your list, and most of the customers it selects are on "
        "it, in cross-validation as well as here.",
    ),
    "partly": (
        "This rule describes part of your list",
        "The rule finds your list's customers far more often than chance, but it misses "
        "many of them or selects many who are not on it.",
    ),
    "no_pattern": (
        "No rule describes this list better than chance",
        "The customers on your list look like everyone else in the data discovery sees: "
        "in cross-validation the rule picks them out no better than a random choice would.",
    ),
}


def _per_hundred(scores: dict) -> tuple[int, int]:
    return round(scores["precision"] * 100), round(scores["recall"] * 100)


def in_words(scores: dict) -> str:
    """Precision and recall said as counts per hundred."""
    precision, recall = _per_hundred(scores)
    return (
        f"{precision} of every 100 customers this rule selects are on your list; "
        f"it finds {recall} of every 100 on your list."
    )


def fidelity_in_words(fidelity: dict) -> str:
    """A persona's rule against its persona, as counts per hundred."""
    precision, recall = _per_hundred(fidelity)
    return (
        f"The rule finds {recall} of every 100 in this persona; "
        f"{precision} of every 100 it selects belong to it."
    )


def _describe_result(run) -> dict:
    result = dict(run.result)
    verdict = result.get("verdict") or learned_verdict(
        Scores(**result["holdout"]), result["model"]["positives"] / result["model"]["population"]
    )
    title, text = VERDICT_WORDS.get(verdict, VERDICT_WORDS["no_pattern"])
    result["verdict"] = verdict
    result["verdict_words"] = {"title": title, "text": text}
    result["in_words"] = in_words(result["metrics"])
    result["entry_rule_json"] = json.dumps(result["entry_rule"], indent=2)
    frequency = result["model"].get("label_frequency")
    result["label_share"] = round(frequency * 100) if frequency is not None else None
    result["draft_url"] = draft_url(
        rule=result["entry_rule"],
        provenance={"discovery": run.pk},
        name=f"Suggested from a list of {run.list_size} NPIs",
    )
    return result


def _personas_result(run) -> dict:
    result = dict(run.result)
    result["personas"] = [dict(p) for p in result["personas"]]
    for persona in result["personas"]:
        persona["draft_url"] = draft_url(
            rule=persona["entry_rule"],
            provenance={"discovery": run.pk, "persona": persona["index"]},
            name=persona["label"],
        )
        persona["profile_rows"] = _profile_rows(persona["profile"])
        persona["size_text"] = f"{persona['size']:,}"
        persona["fidelity_words"] = fidelity_in_words(persona["fidelity"])
    return result


def _context_key(kind: str) -> str:
    return "describe" if kind == DESCRIBE_KIND else "personas"


def _queued(request: HttpRequest, kind: str, job) -> HttpResponse:
    """The polling progress fragment of a job queued as the API queues it."""
    context = {"job": job, _context_key(kind) + "_job": job}
    return _answer(request, "discovery/partials/task_progress.html", context, 202)


@require_POST
@page_permission("run_discovery")
def describe_page(request: HttpRequest) -> HttpResponse:
    errors: list[ErrorDetail] = []
    result = None
    try:
        params = {
            "npis": _npis_from(request),
            "parent": request.POST.get("parent") or None,
            "max_conditions": _int_or_none(request.POST.get("max_conditions"), "max_conditions"),
            "ignore_unknown": bool(request.POST.get("ignore_unknown")),
            "as_of": _as_of(request.POST.get("as_of")),
        }
        if _workers():
            job = queue_describe(user=request.user, params=params)
            return _queued(request, DESCRIBE_KIND, job)
        result = _describe_result(services.describe_list(user=request.user, **params))
    except DomainError as exc:
        errors = exc.errors
    context = {"describe": result, "describe_errors": errors}
    return _answer(request, PARTIALS[DESCRIBE_KIND], context, 400 if errors else 200)


@require_POST
@page_permission("run_discovery")
def personas_page(request: HttpRequest) -> HttpResponse:
    errors: list[ErrorDetail] = []
    result = None
    try:
        params = {
            "k": _int_or_none(request.POST.get("k"), "k"),
            "parent": request.POST.get("parent") or None,
            "families": request.POST.getlist("families") or None,
            "as_of": _as_of(request.POST.get("as_of")),
        }
        if _workers():
            job = queue_personas(user=request.user, params=params)
            return _queued(request, PERSONAS_KIND, job)
        result = _personas_result(services.find_personas(user=request.user, **params))
    except DomainError as exc:
        errors = exc.errors
    context = {"personas": result, "personas_errors": errors}
    return _answer(request, PARTIALS[PERSONAS_KIND], context, 400 if errors else 200)


@require_GET
@page_permission("run_discovery")
def task_partial(request: HttpRequest, task_id: str) -> HttpResponse:
    """htmx: a queued discovery job's progress, polled until it has the result (or its error).

    The same job record and the same rule as ``GET /api/v1/tasks/{id}/``: only
    its owner (or an admin) sees it; anyone else gets 404.
    """
    job = job_get(job_id=task_id)
    admin = request.user.is_superuser or request.user.has_role("admin")
    if job is None or job.kind not in PARTIALS or (job.owner_id != request.user.pk and not admin):
        raise Http404("no such discovery job")
    key = _context_key(job.kind)
    if job.state == JobState.SUCCEEDED:
        run = run_get(pk=job.result["id"])
        result = _describe_result(run) if key == "describe" else _personas_result(run)
        return render(request, PARTIALS[job.kind], {key: result, f"{key}_errors": []})
    if job.state == JobState.FAILED:
        errors = [ErrorDetail("", job.error or "the job failed")]
        return render(request, PARTIALS[job.kind], {key: None, f"{key}_errors": errors})
    return render(request, "discovery/partials/task_progress.html", {"job": job})


@require_GET
@page_permission("view_differentiators")
def differentiators_partial(request: HttpRequest, key: str) -> HttpResponse:
    """The differentiators table of a version, as a fragment for the segment and review pages."""
    segment = segment_get(key=key)
    number = _int_or_none(request.GET.get("version"), "version")
    answer = services.segment_differentiators(user=request.user, segment=segment, number=number)
    return render(request, "discovery/partials/differentiators.html", {"answer": answer})
