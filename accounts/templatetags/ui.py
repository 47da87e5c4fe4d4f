"""Template helpers shared by every page: navigation, badges, sortable headers."""

from __future__ import annotations

import datetime as dt
import json

from django import template
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from accounts.permissions import allowed

register = template.Library()

# (label, url name, action that opens it); the nav shows only what allowed() grants.
NAV = (
    ("Inbox", "governance:inbox_page", "view_inbox"),
    ("Dashboard", "segmentation:dashboard", "view_dashboard"),
    ("Segments", "segmentation:segment_list", "view_segments"),
    ("Reviews", "governance:review_list", "view_reviews"),
    ("Content", "content:asset_list", "view_assets"),
    ("Discovery", "discovery:home", "run_discovery"),
    ("Mappings", "content:mapping_list", "view_mapping_queue"),
    ("Imports", "customers:import_list", "import_data"),
    ("Territories", "field:territory_list", "view_territories"),
    ("Audit", "governance:audit_list", "view_audit"),
)


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    items = []
    for label, url_name, action in NAV:
        if allowed(user, action):
            url = reverse(url_name)
            active = request.path.startswith(url) if url != "/" else request.path == "/"
            items.append({"label": label, "url": url, "active": active})
    return items


@register.simple_tag(takes_context=True)
def can(context, action: str) -> bool:
    request = context.get("request")
    return allowed(getattr(request, "user", None), action)


@register.simple_tag
def badge(state: str | None) -> str:
    """A status badge; the text is the state itself so colour is never the only cue."""
    from core.words import plain  # noqa: PLC0415

    state = state or "none"
    return format_html(
        '<span class="badge badge-{}">{}</span>', state.replace(" ", "_"), plain(state)
    )


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, field: str, css_class: str = "") -> str:
    """A column header linking to ?sort=field (toggles direction), keeping other params."""
    request = context["request"]
    current = context.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == field:
        new, aria, arrow = f"-{field}", "ascending", " ▲"
    elif current == f"-{field}":
        new, aria, arrow = field, "descending", " ▼"
    else:
        new, aria, arrow = field, "none", ""
    params["sort"] = new
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a href="?{}">{}{}</a></th>',
        css_class,
        aria,
        params.urlencode(),
        label,
        arrow,
    )


@register.filter
def percent(value) -> str:
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def pretty_json(value) -> str:
    """JSON with indentation for before/after values (autoescaped by the template)."""
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter(name="plain")
def plain_filter(value) -> str:
    """A vocabulary code in words ("heart_failure" -> "heart failure", "copd" -> "COPD")."""
    from core.words import plain  # noqa: PLC0415 - keep the tag library's imports light

    return plain(value)


@register.filter(name="plain_list")
def plain_list_filter(values) -> str:
    from core.words import plain_list  # noqa: PLC0415

    return plain_list(values)


@register.filter(name="plain_errors")
def plain_errors_filter(errors) -> list:
    """Errors with the field's label and the message in words (core.plain_errors)."""
    from core.plain_errors import plain_errors  # noqa: PLC0415

    return plain_errors(errors)


@register.filter(name="plain_message")
def plain_message_filter(message) -> str:
    from core.plain_errors import plain_message  # noqa: PLC0415

    return plain_message(str(message))


@register.filter(name="moment")
def moment_filter(value) -> str:
    """An ISO timestamp (as stored in a run's JSON) in words: "7 Dec 2026, 14:36 UTC"."""
    when = value if isinstance(value, dt.datetime) else parse_datetime(str(value or ""))
    if when is None:
        return str(value or "")
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when.day} {when:%b %Y, %H:%M} UTC"
