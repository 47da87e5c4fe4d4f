"""Audit reads: the filtered event list the audit page and API share (docs/governance.md)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.db.models import QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from core.errors import ValidationFailed

from .models import AuditEvent


def _parse_since(value: str, path: str = "since") -> datetime:
    text = value.strip()
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is not None:
        return datetime.combine(day, time.min, tzinfo=UTC)
    try:
        moment = parse_datetime(text.replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(
            f"'{value}' is not a date (YYYY-MM-DD) or ISO 8601 date-time", path=path
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def audit_events(
    *,
    object: str | None = None,  # noqa: A002 - the query parameter's name
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    object_type: str | None = None,
) -> QuerySet:
    """Audit events, oldest first, filtered.

    ``object``: ``type:id`` (e.g. ``asset:US-CARD-0042``, ``segment:cardio``)
    matches that object exactly; a value without ``:`` matches the object id of
    any type. ``action``: exact, or a prefix when it ends with ``.`` or ``*``
    (``asset.`` = every asset action). ``actor``: username. ``since``/``until``:
    ISO date or date-time (UTC when no offset), inclusive/exclusive.
    """
    qs = AuditEvent.objects.order_by("id")
    if object:
        if ":" in object:
            kind, _, ident = object.partition(":")
            qs = qs.filter(object_type=kind, object_id=ident)
        else:
            qs = qs.filter(object_id=object)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if since:
        qs = qs.filter(occurred_at__gte=_parse_since(since))
    if until:
        qs = qs.filter(occurred_at__lt=_parse_since(until, "until"))
    if action:
        if action.endswith("*") or action.endswith("."):
            qs = qs.filter(action__startswith=action.rstrip("*"))
        else:
            qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_username=actor)
    return qs
