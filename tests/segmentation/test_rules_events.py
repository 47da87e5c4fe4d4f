"""Event (engagement) and rx (prescribing) conditions: windows, counts and sums."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import CustomerFactory, InteractionFactory, RxFactFactory

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


def one_event_at(npi: str, when: dt.datetime, **fields):
    customer = CustomerFactory(npi=npi)
    InteractionFactory(customer=customer, occurred_at=when, **fields)
    return customer


# -- windows --------------------------------------------------------------------------


def test_event_exactly_within_days_before_as_of_is_excluded(db, matching):
    one_event_at("1000000001", AS_OF - 30 * DAY)
    assert matching({"event": {}, "within_days": 30}, as_of=AS_OF) == set()


def test_event_one_second_inside_the_window_counts(db, matching):
    one_event_at("1000000001", AS_OF - 30 * DAY + SECOND)
    assert matching({"event": {}, "within_days": 30}, as_of=AS_OF) == {"1000000001"}


def test_event_exactly_at_as_of_counts(db, matching):
    one_event_at("1000000001", AS_OF)
    assert matching({"event": {}, "within_days": 1}, as_of=AS_OF) == {"1000000001"}


def test_event_after_as_of_never_counts(db, matching):
    one_event_at("1000000001", AS_OF + SECOND)
    assert matching({"event": {}, "within_days": 30}, as_of=AS_OF) == set()
    assert matching({"event": {}}, as_of=AS_OF) == set()


def test_without_within_days_every_event_up_to_as_of_counts(db, matching):
    one_event_at("1000000001", dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    assert matching({"event": {}}, as_of=AS_OF) == {"1000000001"}


def test_a_day_is_86400_seconds_whatever_the_as_of_offset(db, matching):
    one_event_at("1000000001", AS_OF - DAY + SECOND)
    as_of_elsewhere = AS_OF.astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert matching({"event": {}, "within_days": 1}, as_of=as_of_elsewhere) == {"1000000001"}


def test_huge_within_days_means_everything_up_to_as_of(db, matching):
    one_event_at("1000000001", dt.datetime(1990, 1, 1, tzinfo=dt.UTC))
    assert matching({"event": {}, "within_days": 10**12}, as_of=AS_OF) == {"1000000001"}


# -- keys -----------------------------------------------------------------------------


@pytest.fixture
def engaged(db):
    when = AS_OF - DAY
    one_event_at("1000000001", when, channel="webinar", kind="attended", topic="safety")
    one_event_at("1000000002", when, channel="webinar", kind="registered")
    one_event_at("1000000003", when, channel="email", kind="opened", asset="CZ-001")
    CustomerFactory(npi="1000000004")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, {"1", "2", "3"}),
        ({"channel": "webinar"}, {"1", "2"}),
        ({"channel": "webinar", "kind": "attended"}, {"1"}),
        ({"topic": "safety"}, {"1"}),
        ({"asset": "CZ-001"}, {"3"}),
        ({"asset": "cz-001"}, set()),
        ({"channel": "email", "kind": "attended"}, set()),
    ],
)
def test_every_given_key_must_match_exactly(engaged, partition, keys, expected):
    assert partition({"event": keys}) == {f"100000000{n}" for n in expected}


# -- counts ---------------------------------------------------------------------------


@pytest.fixture
def visit_counts(db):
    """Customer 100000000N had N rep visits in the last 30 days (N = 0..3)."""
    for n in range(4):
        customer = CustomerFactory(npi=f"100000000{n}")
        for i in range(n):
            InteractionFactory(
                customer=customer, occurred_at=AS_OF - (i + 1) * DAY, channel="rep_visit",
                kind="visited",
            )  # fmt: skip
        # outside the window or another channel: never counted
        InteractionFactory(customer=customer, occurred_at=AS_OF - 40 * DAY, channel="rep_visit")
        InteractionFactory(customer=customer, occurred_at=AS_OF - DAY, channel="email")


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", 0, {0}),
        ("lt", 1, {0}),
        ("lte", 0, {0}),
        ("ne", 0, {1, 2, 3}),
        ("gt", 0, {1, 2, 3}),
        ("gte", 0, {0, 1, 2, 3}),
        ("gte", 2, {2, 3}),
        ("gt", 2, {3}),
        ("eq", 2, {2}),
        ("ne", 2, {0, 1, 3}),
        ("lt", 2, {0, 1}),
        ("lte", 2, {0, 1, 2}),
        ("lt", 0, set()),
        ("gte", 4, set()),
    ],
)
def test_count_comparisons_include_zero_counts(visit_counts, partition, op, value, expected):
    rule = {
        "event": {"channel": "rep_visit"},
        "within_days": 30,
        "count": {"op": op, "value": value},
    }
    assert partition(rule) == {f"100000000{n}" for n in expected}


def test_count_defaults_to_at_least_one(visit_counts, matching):
    assert matching({"event": {"channel": "rep_visit"}, "within_days": 30}) == {
        "1000000001",
        "1000000002",
        "1000000003",
    }


def test_spec_exit_rule_selects_customers_without_any_interaction(db, matching):
    one_event_at("1000000001", AS_OF - 10 * DAY)
    one_event_at("1000000002", AS_OF - 200 * DAY)
    CustomerFactory(npi="1000000003")
    rule = {"event": {}, "within_days": 180, "count": {"op": "eq", "value": 0}}
    assert matching(rule) == {"1000000002", "1000000003"}


# -- rx -------------------------------------------------------------------------------


def rx_rule(**kw):
    rule = {"rx": kw.pop("rx", {}), "metric": kw.pop("metric", "nrx")}
    rule.update(kw)
    rule.setdefault("sum", {"op": "gte", "value": 1})
    return rule


@pytest.mark.parametrize(
    ("month", "months", "counted"),
    [
        (dt.date(2026, 3, 1), 1, True),
        (dt.date(2026, 2, 1), 1, False),
        (dt.date(2026, 1, 1), 3, True),
        (dt.date(2025, 12, 1), 3, False),
        (dt.date(2026, 4, 1), 3, False),  # after as_of's month: never
        (dt.date(2020, 1, 1), None, True),
        (dt.date(2026, 4, 1), None, False),
    ],
)
def test_rx_months_are_calendar_months_ending_with_as_ofs(db, matching, month, months, counted):
    RxFactFactory(customer=CustomerFactory(npi="1000000001"), month=month, nrx=1)
    rule = rx_rule() if months is None else rx_rule(months=months)
    assert matching(rule, as_of=AS_OF) == ({"1000000001"} if counted else set())


def test_rx_as_of_at_midnight_on_the_first_is_in_that_month(db, matching):
    RxFactFactory(customer=CustomerFactory(npi="1000000001"), month=dt.date(2026, 3, 1), nrx=1)
    RxFactFactory(customer=CustomerFactory(npi="1000000002"), month=dt.date(2026, 2, 1), nrx=1)
    as_of = dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC)
    assert matching(rx_rule(months=1), as_of=as_of) == {"1000000001"}


def test_rx_month_of_as_of_is_taken_in_utc(db, matching):
    RxFactFactory(customer=CustomerFactory(npi="1000000001"), month=dt.date(2026, 3, 1), nrx=1)
    # 2026-02-28 20:00 in New York is 2026-03-01 01:00 UTC: March
    as_of = dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert matching(rx_rule(months=1), as_of=as_of) == {"1000000001"}


def test_rx_months_window_crosses_a_year_boundary(db, matching):
    RxFactFactory(customer=CustomerFactory(npi="1000000001"), month=dt.date(2025, 11, 1), nrx=1)
    as_of = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert matching(rx_rule(months=3), as_of=as_of) == {"1000000001"}
    assert matching(rx_rule(months=2), as_of=as_of) == set()


@pytest.fixture
def prescribers(db):
    a = CustomerFactory(npi="1000000001")
    RxFactFactory(customer=a, month=dt.date(2026, 3, 1), product="CZ", nrx=2, trx=5)
    RxFactFactory(customer=a, month=dt.date(2026, 2, 1), product="CZ", nrx=1, trx=1)
    RxFactFactory(customer=a, month=dt.date(2026, 3, 1), product="OTHER", nrx=4, trx=4)
    b = CustomerFactory(npi="1000000002")
    RxFactFactory(customer=b, month=dt.date(2026, 3, 1), product="CZ", nrx=0, trx=0)
    CustomerFactory(npi="1000000003")  # no facts at all


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (rx_rule(rx={"product": "CZ"}, sum={"op": "eq", "value": 3}), {"1"}),
        (rx_rule(rx={"product": "CZ"}, months=1, sum={"op": "eq", "value": 2}), {"1"}),
        (rx_rule(sum={"op": "eq", "value": 7}), {"1"}),
        (rx_rule(metric="trx", sum={"op": "gt", "value": 9.5}), {"1"}),
        (rx_rule(sum={"op": "eq", "value": 0}), {"2", "3"}),
        (rx_rule(sum={"op": "lt", "value": 5}), {"2", "3"}),
        (rx_rule(sum={"op": "lte", "value": 0.5}), {"2", "3"}),
        (rx_rule(sum={"op": "ne", "value": 0}), {"1"}),
        (rx_rule(sum={"op": "gte", "value": 0}), {"1", "2", "3"}),
        (rx_rule(sum={"op": "gte", "value": -3}), {"1", "2", "3"}),
        (rx_rule(sum={"op": "eq", "value": 2.5}), set()),
        (rx_rule(rx={"product": "NONE"}, sum={"op": "eq", "value": 0}), {"1", "2", "3"}),
        (rx_rule(metric="new_patient_starts", sum={"op": "gt", "value": 0}), set()),
    ],
)
def test_rx_sums_treat_no_facts_as_zero(prescribers, partition, rule, expected):
    assert partition(rule) == {f"100000000{n}" for n in expected}
