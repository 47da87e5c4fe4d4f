"""UTC normalisation: every time the product stores, compares or prints is UTC (docs/rules.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC; a naive value is taken as UTC already. None stays None."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, the form every API answer and export uses."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
