"""Run timestamps on pages read as a date and a time, not as ISO text."""

import datetime as dt

from accounts.templatetags.ui import moment_filter


def test_an_iso_timestamp_reads_as_day_month_year_and_utc_time():
    assert moment_filter("2026-12-07T14:36:17.077344Z") == "7 Dec 2026, 14:36 UTC"


def test_an_aware_datetime_is_shown_in_utc():
    when = dt.datetime(2026, 3, 1, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert moment_filter(when) == "1 Mar 2026, 14:05 UTC"


def test_text_that_is_not_a_timestamp_is_shown_as_it_is():
    assert moment_filter("not a date") == "not a date"
