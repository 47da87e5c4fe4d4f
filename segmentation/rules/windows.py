"""The time windows of event and rx conditions (docs/rules.md, "Events" and "Rx").

One place for both the compiler and the aggregates shared across a run
(``shared.py``), so that a shared total covers exactly the rows the
compiler's subquery would.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q


def event_start(as_of: dt.datetime, within_days: int | None) -> dt.datetime | None:
    """The exclusive lower bound of ``within_days`` before ``as_of`` (None: no bound).

    An event counts when ``start < occurred_at <= as_of``; a window reaching
    before the first representable instant has no lower bound.
    """
    if within_days is None:
        return None
    try:
        return as_of - dt.timedelta(days=within_days)
    except OverflowError:
        return None


def event_window(as_of: dt.datetime, within_days: int | None) -> Q:
    """The interactions an event condition counts: ``start < occurred_at <= as_of``."""
    window = Q(occurred_at__lte=as_of)
    start = event_start(as_of, within_days)
    if start is not None:
        window &= Q(occurred_at__gt=start)
    return window


def month_start(day: dt.date, months_back: int) -> dt.date | None:
    """The first day of the month ``months_back`` months before ``day``'s (None: before year 1)."""
    index = day.year * 12 + (day.month - 1) - months_back
    year, month = divmod(index, 12)
    if year < 1:
        return None
    return dt.date(year, month + 1, 1)


def rx_window(as_of: dt.datetime, months: int | None) -> tuple[dt.date | None, dt.date]:
    """(first, end): facts with ``first <= month < end`` are in the last ``months`` months.

    ``end`` is the first day of the month after ``as_of``'s (facts are keyed by
    their month's first day; "< next month" also holds any day in it).
    ``first`` is None without ``months`` (every month up to ``as_of``'s) or
    when the window reaches before year 1.
    """
    today = as_of.date()
    first = month_start(today, months - 1) if months is not None else None
    return first, month_start(today, -1)
