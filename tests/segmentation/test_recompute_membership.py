"""Recompute semantics of docs/rules.md: M' = E, (M ∪ E) \\ X, parents, history, idempotence."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from customers.models import Customer
from segmentation import services
from segmentation.models import Membership, MembershipChange, RecomputeRun
from segmentation.rules.shared import SharedAggregates
from tests.factories import CustomerFactory, InteractionFactory

from .segments_support import (
    AS_OF,
    DAY,
    EXAMPLE_ENTRY,
    EXAMPLE_EXIT,
    activate,
    make_segment,
    member_npis,
)

pytestmark = pytest.mark.django_db

CARDIO = {"field": "specialty", "op": "eq", "value": "cardiology"}
HIGH = {"field": "decile", "op": "gte", "value": 8}
LOW = {"field": "decile", "op": "lte", "value": 3}


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def recompute(version, as_of=AS_OF, **kwargs):
    return services.recompute_version(version=version, as_of=as_of, **kwargs)


def set_decile(customer, decile):
    Customer.objects.filter(pk=customer.pk).update(decile=decile)


# --- the example of docs/rules.md, hand-checked --------------------------------------


@pytest.fixture
def example_people():
    """Customers around the example's boundaries; ``expected`` are those who match at AS_OF."""

    def webinar(c, when):
        InteractionFactory(customer=c, occurred_at=when, channel="webinar", kind="attended")

    def rep_visit(c, when):
        InteractionFactory(customer=c, occurred_at=when, channel="rep_visit", kind="visited")

    people = {}
    people["webinar"] = c = CustomerFactory(specialty="cardiology", decile=8, state="NY")
    webinar(c, AS_OF - 10 * DAY)
    people["two_visits"] = c = CustomerFactory(specialty="endocrinology", decile=7, state="TX")
    rep_visit(c, AS_OF - 5 * DAY)
    rep_visit(c, AS_OF - 29 * DAY)
    people["no_state"] = c = CustomerFactory(specialty="cardiology", decile=10, state="")
    webinar(c, AS_OF)  # the window's upper bound is included
    people["in_ca"] = c = CustomerFactory(specialty="cardiology", decile=9, state="CA")
    webinar(c, AS_OF - DAY)
    people["oncology"] = c = CustomerFactory(specialty="oncology", decile=10, state="NY")
    webinar(c, AS_OF - DAY)
    people["decile_6"] = c = CustomerFactory(specialty="cardiology", decile=6, state="NY")
    webinar(c, AS_OF - DAY)
    people["no_decile"] = c = CustomerFactory(specialty="cardiology", decile=None, state="NY")
    webinar(c, AS_OF - DAY)
    people["one_visit"] = c = CustomerFactory(specialty="cardiology", decile=8, state="NY")
    rep_visit(c, AS_OF - DAY)
    rep_visit(c, AS_OF - 31 * DAY)  # outside 30 days
    people["window_edge"] = c = CustomerFactory(specialty="cardiology", decile=8, state="NY")
    webinar(c, AS_OF - 90 * DAY)  # exactly 90 days: outside (as_of - 90d, as_of]
    people["future"] = c = CustomerFactory(specialty="cardiology", decile=8, state="NY")
    webinar(c, AS_OF + DAY)  # after as_of never counts
    people["registered"] = c = CustomerFactory(specialty="cardiology", decile=8, state="NY")
    InteractionFactory(customer=c, occurred_at=AS_OF - DAY, channel="webinar", kind="registered")
    expected = {people[k].npi for k in ("webinar", "two_visits", "no_state")}
    return people, expected


def test_example_rule_selects_hand_checked_customers(brand, example_people):
    people, expected = example_people
    version = make_segment(brand, "example", EXAMPLE_ENTRY, EXAMPLE_EXIT)
    result = recompute(version)
    assert member_npis(version) == expected
    assert (result.entered, result.exited, result.member_count) == (3, 0, 3)


def test_example_members_stay_until_180_days_without_interaction(brand, example_people):
    people, expected = example_people
    version = make_segment(brand, "example", EXAMPLE_ENTRY, EXAMPLE_EXIT)
    recompute(version)
    # 100 days on, nobody matches the entry rule any more, but everyone had an
    # interaction within 180 days: the exit rule does not hold, so all stay.
    later = recompute(version, as_of=AS_OF + 100 * DAY)
    assert member_npis(version) == expected
    assert later.run_id is None
    # 200 days after the webinar member's last interaction, the exit rule holds.
    gone = recompute(version, as_of=AS_OF - 10 * DAY + 181 * DAY)
    assert people["webinar"].npi not in member_npis(version)
    assert gone.exited == 1
    assert member_npis(version) == expected - {people["webinar"].npi}


# --- no exit rule: M' = E --------------------------------------------------------


def test_without_exit_rule_members_follow_the_entry_rule(brand):
    c = CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    recompute(version)
    assert member_npis(version) == {c.npi}
    set_decile(c, 5)
    result = recompute(version)
    assert member_npis(version) == set()
    assert (result.entered, result.exited, result.member_count) == (0, 1, 0)


def test_entered_at_is_the_as_of_of_the_entering_run(brand):
    c = CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    recompute(version)
    later = AS_OF + 3 * DAY
    CustomerFactory(decile=10)
    recompute(version, as_of=later)
    entered = dict(Membership.objects.values_list("customer__npi", "entered_at"))
    assert entered[c.npi] == AS_OF
    assert sorted(entered.values()) == [AS_OF, later]


# --- hysteresis with an exit rule ------------------------------------------------


def test_member_stays_while_entry_fails_until_exit_holds(brand):
    c = CustomerFactory(decile=9)
    version = make_segment(brand, "sticky", HIGH, exit_rule=LOW)
    recompute(version)
    assert member_npis(version) == {c.npi}
    set_decile(c, 5)  # entry false, exit false: stays
    recompute(version, as_of=AS_OF + DAY)
    assert member_npis(version) == {c.npi}
    set_decile(c, 2)  # exit true: leaves
    recompute(version, as_of=AS_OF + 2 * DAY)
    assert member_npis(version) == set()
    set_decile(c, 5)  # entry false, exit false, not a member: stays out
    recompute(version, as_of=AS_OF + 3 * DAY)
    assert member_npis(version) == set()
    set_decile(c, 8)  # entry true again: re-enters
    recompute(version, as_of=AS_OF + 4 * DAY)
    assert member_npis(version) == {c.npi}


def test_exit_rule_wins_when_both_hold(brand):
    c = CustomerFactory(decile=9, state="CA")
    version = make_segment(
        brand, "both", HIGH, exit_rule={"field": "state", "op": "eq", "value": "CA"}
    )
    recompute(version)
    assert member_npis(version) == set()
    Customer.objects.filter(pk=c.pk).update(state="NY")
    recompute(version, as_of=AS_OF + DAY)
    assert member_npis(version) == {c.npi}
    Customer.objects.filter(pk=c.pk).update(state="CA")  # entry still holds, exit too
    recompute(version, as_of=AS_OF + 2 * DAY)
    assert member_npis(version) == set()


# --- parents and references ------------------------------------------------------


def test_parent_intersects_with_the_parents_members(brand):
    cardio_high = CustomerFactory(specialty="cardiology", decile=9)
    CustomerFactory(specialty="oncology", decile=9)
    CustomerFactory(specialty="cardiology", decile=2)
    parent = make_segment(brand, "cardio", CARDIO)
    child = make_segment(brand, "cardio-high", HIGH, parent="cardio")
    recompute(parent)
    recompute(child)
    assert member_npis(child) == {cardio_high.npi}


def test_child_event_counts_and_exit_rule_are_exact_for_the_parents_members(brand):
    """A full run of a child reads only its parent's members' events; nobody else enters."""

    def visits(c, n):
        for d in range(n):
            InteractionFactory(customer=c, occurred_at=AS_OF - (d + 1) * DAY, channel="rep_visit")

    busy_member = CustomerFactory(specialty="cardiology")
    visits(busy_member, 3)
    quiet_member = CustomerFactory(specialty="cardiology")
    visits(quiet_member, 1)
    busy_outsider = CustomerFactory(specialty="oncology")
    visits(busy_outsider, 5)
    parent = make_segment(brand, "cardio", CARDIO)
    busy = {
        "event": {"channel": "rep_visit"},
        "within_days": 30,
        "count": {"op": "gte", "value": 2},
    }
    silent = {
        "event": {"channel": "rep_visit"},
        "within_days": 30,
        "count": {"op": "eq", "value": 0},
    }
    child = make_segment(brand, "cardio-busy", busy, exit_rule=silent, parent="cardio")
    recompute(parent)
    recompute(child)
    assert member_npis(child) == {busy_member.npi}


def test_parent_reads_the_active_version_not_a_newer_draft(brand):
    onc = CustomerFactory(specialty="oncology", decile=9)
    parent = activate(
        make_segment(brand, "base", {"field": "specialty", "op": "eq", "value": "oncology"})
    )
    recompute(parent)
    draft = services.segment_update(user=brand, segment=parent.segment, entry_rule=CARDIO)
    recompute(draft)
    child = make_segment(brand, "kid", HIGH, parent="base")
    recompute(child)
    assert member_npis(child) == {onc.npi}


def test_segment_reference_sees_same_run_membership_in_recompute_all(brand):
    c = CustomerFactory(specialty="cardiology", decile=9)
    referred = activate(make_segment(brand, "zz-cardio", CARDIO))
    referring = activate(make_segment(brand, "refers", {"segment": "zz-cardio"}))
    results = services.recompute_all(as_of=AS_OF)
    assert [r.segment for r in results] == ["zz-cardio", "refers"]
    assert member_npis(referred) == member_npis(referring) == {c.npi}


def _rep_visits(n: int, days: int) -> dict:
    return {
        # Channel and kind: a source the latest interaction times do not answer.
        "event": {"channel": "rep_visit", "kind": "visited"},
        "within_days": days,
        "count": {"op": "gte", "value": n},
    }


def _visit(customer, days_ago: int) -> None:
    InteractionFactory(
        customer=customer, channel="rep_visit", kind="visited", occurred_at=AS_OF - days_ago * DAY
    )


def test_recompute_all_reads_shared_totals_exactly_per_window(brand):
    """Segments reading one event count with different windows and thresholds,
    recomputed together from one shared table, each get exactly their members."""
    one_recent, two_older, three_recent, never = (CustomerFactory() for _ in range(4))
    _visit(one_recent, 5)
    _visit(two_older, 20)
    _visit(two_older, 40)
    for days in (1, 2, 3):
        _visit(three_recent, days)
    rules = {
        "two-in-60": _rep_visits(2, 60),
        "two-in-10": _rep_visits(2, 10),
        "one-in-10": _rep_visits(1, 10),
        "exactly-one-in-30": {**_rep_visits(1, 30), "count": {"op": "eq", "value": 1}},
        "under-two-in-15": {**_rep_visits(1, 15), "count": {"op": "lt", "value": 2}},
        "none-in-15": {"not": _rep_visits(1, 15)},
    }
    assert len(SharedAggregates.plan(rules.values(), as_of=AS_OF)) == 1
    versions = {key: activate(make_segment(brand, key, rule)) for key, rule in rules.items()}
    results = services.recompute_all(as_of=AS_OF)
    assert {r.segment for r in results} == set(rules)
    assert member_npis(versions["two-in-60"]) == {two_older.npi, three_recent.npi}
    assert member_npis(versions["two-in-10"]) == {three_recent.npi}
    assert member_npis(versions["one-in-10"]) == {one_recent.npi, three_recent.npi}
    assert member_npis(versions["exactly-one-in-30"]) == {one_recent.npi, two_older.npi}
    assert member_npis(versions["under-two-in-15"]) == {one_recent.npi, two_older.npi, never.npi}
    assert member_npis(versions["none-in-15"]) == {two_older.npi, never.npi}


def test_shared_recompute_equals_recomputing_each_segment_alone(brand):
    for decile, days in ((9, 3), (8, 30), (2, 90), (None, 400)):
        customer = CustomerFactory(decile=decile)
        _visit(customer, days)
        _visit(customer, days + 1)
    rules = [
        _rep_visits(2, 35),
        _rep_visits(1, 100),
        {"all": [HIGH, _rep_visits(2, 500)]},
        {"any": [LOW, _rep_visits(3, 500)]},
        {"not": _rep_visits(1, 31)},
    ]
    assert len(SharedAggregates.plan(rules, as_of=AS_OF)) == 1
    together = [activate(make_segment(brand, f"t{i}", r)) for i, r in enumerate(rules)]
    services.recompute_all(as_of=AS_OF)
    for i, rule in enumerate(rules):
        alone = make_segment(brand, f"alone{i}", rule)
        recompute(alone)
        assert member_npis(alone) == member_npis(together[i]), rule


def test_recompute_all_skips_versions_that_are_not_active(brand):
    CustomerFactory(decile=9)
    draft = make_segment(brand, "drafty", HIGH)
    assert services.recompute_all(as_of=AS_OF) == []
    assert member_npis(draft) == set()


# --- history, runs, audit, idempotence ------------------------------------------


def test_history_rows_record_every_entry_and_exit(brand):
    a = CustomerFactory(decile=9)
    b = CustomerFactory(decile=8)
    version = make_segment(brand, "high", HIGH)
    first = recompute(version)
    set_decile(a, 1)
    second = recompute(version, as_of=AS_OF + DAY)
    rows = list(
        MembershipChange.objects.order_by("recorded_at", "id").values_list(
            "customer__npi", "direction", "as_of", "run_id", "version_id"
        )
    )
    assert sorted(rows[:2]) == sorted(
        [
            (a.npi, "entry", AS_OF, first.run_id, version.pk),
            (b.npi, "entry", AS_OF, first.run_id, version.pk),
        ]
    )
    assert rows[2:] == [(a.npi, "exit", AS_OF + DAY, second.run_id, version.pk)]


def test_run_and_audit_event_describe_the_recompute(brand):
    CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    result = recompute(version, user=brand)
    run = RecomputeRun.objects.get()
    assert (run.pk, run.entered, run.exited, run.member_count, run.as_of) == (
        result.run_id,
        1,
        0,
        1,
        AS_OF,
    )
    event = AuditEvent.objects.get(action="segment.recomputed")
    assert event.object_id == "high"
    assert event.after["version"] == 1
    assert (event.after["entered"], event.after["exited"]) == (1, 0)
    assert event.after["as_of"] == "2026-03-01T00:00:00Z"
    assert "duration_ms" in event.after
    version.refresh_from_db()
    assert (version.member_count, version.last_as_of) == (1, AS_OF)


def test_identical_recompute_writes_nothing(brand):
    CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    recompute(version)
    counts = (
        RecomputeRun.objects.count(),
        MembershipChange.objects.count(),
        AuditEvent.objects.count(),
    )
    again = recompute(version)
    assert (again.entered, again.exited, again.run_id, again.member_count) == (0, 0, None, 1)
    assert counts == (
        RecomputeRun.objects.count(),
        MembershipChange.objects.count(),
        AuditEvent.objects.count(),
    )


def test_empty_first_recompute_records_nothing(brand):
    version = make_segment(brand, "empty", HIGH)
    recompute(version)
    assert not RecomputeRun.objects.exists()
    assert not AuditEvent.objects.filter(action="segment.recomputed").exists()


# --- incremental ------------------------------------------------------------------


def test_incremental_recompute_only_touches_the_given_customers(brand):
    a = CustomerFactory(decile=9)
    b = CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    recompute(version)
    set_decile(a, 1)
    set_decile(b, 1)
    result = recompute(version, customer_ids=[a.pk])
    assert member_npis(version) == {b.npi}
    assert (result.exited, result.scope_size, result.member_count) == (1, 1, 1)


def test_incremental_with_exit_rule_keeps_hysteresis(brand):
    a = CustomerFactory(decile=9)
    version = make_segment(brand, "sticky", HIGH, exit_rule=LOW)
    recompute(version)
    set_decile(a, 5)
    recompute(version, customer_ids=[a.pk], as_of=AS_OF + DAY)
    assert member_npis(version) == {a.npi}
    set_decile(a, 1)
    recompute(version, customer_ids=[a.pk], as_of=AS_OF + 2 * DAY)
    assert member_npis(version) == set()


def test_incremental_recompute_of_the_changed_customers_equals_a_full_one(brand):
    """Event counts evaluated for a scope give the same membership as a full run."""
    rule = {
        "any": [
            {
                "event": {"channel": "rep_visit"},
                "within_days": 30,
                "count": {"op": "gte", "value": 2},
            },
            {"event": {"channel": "webinar"}, "count": {"op": "eq", "value": 1}},
        ]
    }
    people = [CustomerFactory() for _ in range(6)]
    for c in people[:3]:
        InteractionFactory(customer=c, occurred_at=AS_OF - 3 * DAY, channel="rep_visit")
    incremental = make_segment(brand, "busy", rule)
    full = make_segment(brand, "busy-full", rule)
    recompute(incremental)
    assert member_npis(incremental) == set()
    # New data: a second visit for people 1-2, a first one for 3, one webinar for 0 and 4.
    for c in people[1:4]:
        InteractionFactory(customer=c, occurred_at=AS_OF - 2 * DAY, channel="rep_visit")
    for c in (people[0], people[4]):
        InteractionFactory(customer=c, occurred_at=AS_OF - 2 * DAY, channel="webinar")
    recompute(incremental, customer_ids=[c.pk for c in people[:5]], as_of=AS_OF + DAY)
    recompute(full, as_of=AS_OF + DAY)
    expected = {people[i].npi for i in (0, 1, 2, 4)}
    assert member_npis(incremental) == member_npis(full) == expected


def test_incremental_run_for_unknown_ids_changes_nothing(brand):
    version = make_segment(brand, "high", HIGH)
    result = recompute(version, customer_ids=[999999])
    assert result.run_id is None
