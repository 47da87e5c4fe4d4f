"""Membership and history carry no row-level FK constraints: integrity is kept by the code.

The engine selects every customer, version and run it writes from the parent
tables in the same transaction; deletes cascade through Django's collector
(segmentation/models.py, docs/architecture.md). These tests check that no row
ever points at a missing parent, and that a scoped run only recomputes the
segments the changed data can move.
"""

from __future__ import annotations

import pytest
from django.db import connection

from customers.models import Customer
from customers.signals import announce_customers_changed
from segmentation import selectors, services
from segmentation.models import (
    Membership,
    MembershipChange,
    MembershipSpell,
    RecomputeRun,
    Segment,
)
from tests.factories import CustomerFactory, InteractionFactory

from .segments_support import AS_OF, DAY, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

CARDIO = {"field": "specialty", "op": "eq", "value": "cardiology"}
WEBINAR = {"event": {"channel": "webinar"}, "within_days": 30}
NEVER_WEBINAR = {"event": {"channel": "webinar"}, "count": {"op": "eq", "value": 0}}


def orphans() -> dict[str, int]:
    """Rows of membership and history whose customer, version or run does not exist."""
    checks = {
        "membership.customer": (
            "segmentation_membership",
            "customer_id",
            "customers_customer",
        ),
        "membership.version": (
            "segmentation_membership",
            "version_id",
            "segmentation_segmentversion",
        ),
        "history.customer": (
            "segmentation_membershipchange",
            "customer_id",
            "customers_customer",
        ),
        "history.version": (
            "segmentation_membershipchange",
            "version_id",
            "segmentation_segmentversion",
        ),
        "history.run": ("segmentation_membershipchange", "run_id", "segmentation_recomputerun"),
        # The table under both views: its runs are null for rows kept from before it.
        "spell.customer": ("segmentation_membershipspell", "customer_id", "customers_customer"),
        "spell.version": (
            "segmentation_membershipspell",
            "version_id",
            "segmentation_segmentversion",
        ),
        "spell.entered_run": (
            "segmentation_membershipspell",
            "entered_run_id",
            "segmentation_recomputerun",
        ),
        "spell.exited_run": (
            "segmentation_membershipspell",
            "exited_run_id",
            "segmentation_recomputerun",
        ),
    }
    out = {}
    with connection.cursor() as cursor:
        for name, (table, column, parent) in checks.items():
            cursor.execute(
                f"SELECT COUNT(*) FROM {table} r WHERE NOT EXISTS "
                f"(SELECT 1 FROM {parent} p WHERE p.id = r.{column}) AND r.{column} IS NOT NULL"
            )
            out[name] = cursor.fetchone()[0]
    return out


NONE = dict.fromkeys(
    [
        "membership.customer",
        "membership.version",
        "history.customer",
        "history.version",
        "history.run",
        "spell.customer",
        "spell.version",
        "spell.entered_run",
        "spell.exited_run",
    ],
    0,
)


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def test_recompute_writes_rows_whose_parents_exist(brand):
    people = [CustomerFactory(specialty="cardiology") for _ in range(3)]
    CustomerFactory(specialty="oncology")
    version = activate(make_segment(brand, "cardio", CARDIO))
    services.recompute_version(version=version, as_of=AS_OF)
    assert member_npis(version) == {c.npi for c in people}
    assert orphans() == NONE


def test_deleting_a_customer_removes_its_membership_and_history(brand):
    keep, gone = CustomerFactory(specialty="cardiology"), CustomerFactory(specialty="cardiology")
    version = activate(make_segment(brand, "cardio", CARDIO))
    services.recompute_version(version=version, as_of=AS_OF)
    Customer.objects.filter(pk=gone.pk).delete()
    assert member_npis(version) == {keep.npi}
    assert not MembershipChange.objects.filter(customer_id=gone.pk).exists()
    assert orphans() == NONE


def test_exits_close_spells_whose_runs_exist(brand):
    """An exit updates the open spell; deleting the segment then removes it all."""
    gone = CustomerFactory(specialty="cardiology")
    version = activate(make_segment(brand, "cardio", CARDIO))
    services.recompute_version(version=version, as_of=AS_OF)
    Customer.objects.filter(pk=gone.pk).update(specialty="oncology")
    services.recompute_version(version=version, as_of=AS_OF + DAY)
    assert member_npis(version) == set()
    assert [c.direction for c in MembershipChange.objects.all()] == ["entry", "exit"]
    assert orphans() == NONE
    Segment.objects.filter(key="cardio").delete()
    assert not MembershipSpell.objects.exists()
    assert orphans() == NONE


def test_deleting_a_segment_removes_versions_runs_membership_and_history(brand):
    CustomerFactory(specialty="cardiology")
    version = activate(make_segment(brand, "cardio", CARDIO))
    services.recompute_version(version=version, as_of=AS_OF)
    Segment.objects.filter(key="cardio").delete()
    assert not Membership.objects.exists()
    assert not MembershipChange.objects.exists()
    assert not RecomputeRun.objects.exists()
    assert orphans() == NONE


def test_new_interactions_recompute_only_segments_that_read_events(brand):
    fields = activate(make_segment(brand, "cardio", CARDIO))
    events = activate(make_segment(brand, "webinar", WEBINAR))
    ref = activate(make_segment(brand, "cardio-webinar", {"segment": "webinar"}))
    child = activate(make_segment(brand, "child", CARDIO, parent="webinar"))
    affected = {v.segment.key for v in selectors.active_versions_affected_by("api:interactions")}
    assert affected == {"webinar", "cardio-webinar", "child"}
    everything = {v.segment.key for v in selectors.active_versions_affected_by("import:customers")}
    assert everything == {"cardio", "webinar", "cardio-webinar", "child"}
    assert {v.pk for v in selectors.active_versions_affected_by(None)} == {
        v.pk for v in (fields, events, ref, child)
    }


def test_a_new_customer_can_enter_an_event_segment(brand, django_capture_on_commit_callbacks):
    """A customers import may create customers: every segment is recomputed, "never" ones too."""
    never = activate(make_segment(brand, "never-webinar", NEVER_WEBINAR))
    newcomer = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        announce_customers_changed(customer_ids=[newcomer.pk], source="import:customers")
    assert member_npis(never) == {newcomer.npi}


def test_scoped_run_matches_a_full_run(brand):
    """One transaction, level by level: a reference sees this run's membership."""
    people = [CustomerFactory(specialty="cardiology") for _ in range(4)]
    events = activate(make_segment(brand, "webinar", WEBINAR))
    ref = activate(make_segment(brand, "cardio-webinar", {"all": [{"segment": "webinar"}, CARDIO]}))
    services.recompute_all(as_of=AS_OF)
    for c in people[:2]:
        InteractionFactory(customer=c, occurred_at=AS_OF - DAY, channel="webinar", kind="attended")
    results = services.recompute_all(as_of=AS_OF, customer_ids=[c.pk for c in people])
    assert [r.entered for r in results] == [2, 2]
    assert member_npis(events) == member_npis(ref) == {c.npi for c in people[:2]}
    events.refresh_from_db()
    assert events.member_count == 2
    assert orphans() == NONE
