"""UTC normalisation: every time the product stores, compares or prints is UTC (docs/rules.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .errors import ValidationFailed

# The dates the product accepts as input (as_of, since, ...): wide enough for any
# history or plan, narrow enough that date arithmetic (windows of days, months,
# "one day ahead") never overflows. docs/api.md, "Dates".
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
RANGE_MESSAGE = "must lie between 1900-01-01 and 2999-12-31 (UTC)"


def check_in_range(moment: datetime, *, path: str) -> datetime:
    """``moment`` in UTC if it lies in [EARLIEST, LATEST]; else ValidationFailed naming ``path``."""
    try:
        utc = as_utc(moment)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValidationFailed(f"{moment.isoformat()} {RANGE_MESSAGE}", path=path)
    return utc


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
    """A date (``YYYY-MM-DD``, 00:00 UTC that day) or an ISO 8601 date-time, in UTC,
    between ``EARLIEST`` and ``LATEST``.

    A date-time without an offset is read as UTC; a ``+`` turned into a space by
    a query string is restored. Anything else is a ValidationFailed naming ``path``.
    """
    if isinstance(value, datetime):
        return check_in_range(value, path=path)
    if isinstance(value, date):
        return check_in_range(datetime.combine(value, time.min, tzinfo=UTC), path=path)
    if not isinstance(value, str):
        raise ValidationFailed("expected a date (YYYY-MM-DD) or ISO 8601 date-time", path=path)
    text = value.strip()
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is not None:
        return check_in_range(datetime.combine(day, time.min, tzinfo=UTC), path=path)
    moment = _datetime_or_none(text) or _datetime_or_none(text.replace(" ", "+"))
    if moment is None:
        raise ValidationFailed(
            f"'{value}' is not a date (YYYY-MM-DD) or ISO 8601 date-time", path=path
        )
    return check_in_range(moment, path=path)
