"""UTC normalisation: every time the product stores, compares or prints is UTC (docs/rules.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .errors import ValidationFailed


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


def _datetime_or_none(text: str) -> datetime | None:
    try:
        return parse_datetime(text.replace("z", "Z"))
    except ValueError:
        return None


def parse_moment(value: Any, *, path: str) -> datetime:
    """A date (``YYYY-MM-DD``, 00:00 UTC that day) or an ISO 8601 date-time, in UTC.

    A date-time without an offset is read as UTC; a ``+`` turned into a space by
    a query string is restored. Anything else is a ValidationFailed naming ``path``.
    """
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    if not isinstance(value, str):
        raise ValidationFailed("expected a date (YYYY-MM-DD) or ISO 8601 date-time", path=path)
    text = value.strip()
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is not None:
        return datetime.combine(day, time.min, tzinfo=UTC)
    moment = _datetime_or_none(text) or _datetime_or_none(text.replace(" ", "+"))
    if moment is None:
        raise ValidationFailed(
            f"'{value}' is not a date (YYYY-MM-DD) or ISO 8601 date-time", path=path
        )
    return as_utc(moment)
