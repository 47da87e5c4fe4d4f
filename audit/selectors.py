"""Audit reads: the filtered event list the audit page and API share (docs/governance.md)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.time import parse_moment

from .models import AuditEvent


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
        qs = qs.filter(occurred_at__gte=parse_moment(since, path="since"))
    if until:
        qs = qs.filter(occurred_at__lt=parse_moment(until, path="until"))
    if action:
        if action.endswith("*") or action.endswith("."):
            qs = qs.filter(action__startswith=action.rstrip("*"))
        else:
            qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_username=actor)
    return qs
