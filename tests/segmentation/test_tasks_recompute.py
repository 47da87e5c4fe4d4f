"""Workers: incremental recompute on data change, scheduled runs, the management command."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from customers.signals import announce_customers_changed
from segmentation import selectors, services, tasks
from segmentation.models import RecomputeRequest, RecomputeRun
from tests.factories import CustomerFactory, InteractionFactory

from .segments_support import AS_OF, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

WEBINAR_30D = {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 30}
HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def webinar_payload(customer, when=None):
    when = when or timezone.now() - dt.timedelta(hours=1)
    return {
        "npi": customer.npi,
        "occurred_at": when.isoformat().replace("+00:00", "Z"),
        "channel": "webinar",
        "kind": "attended",
    }


def test_new_interaction_through_the_api_updates_active_membership(
    brand, client_for, django_capture_on_commit_callbacks
):
    c = CustomerFactory()
    version = activate(make_segment(brand, "webinar-fans", WEBINAR_30D))
    services.recompute_version(version=version)
    assert member_npis(version) == set()
    client = client_for("brand")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/interactions/", webinar_payload(c), format="json")
    assert response.status_code == 201, response.json()
    assert member_npis(version) == {c.npi}
    run = RecomputeRun.objects.get()
    assert (run.trigger, run.scope_size, run.entered) == ("data_change", 1, 1)


def test_data_change_reaches_segments_referencing_the_changed_one(
    brand, django_capture_on_commit_callbacks
):
    c = CustomerFactory(decile=9)
    base = activate(make_segment(brand, "webinar-fans", WEBINAR_30D))
    ref = activate(make_segment(brand, "a-refers", {"all": [HIGH, {"segment": "webinar-fans"}]}))
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            InteractionFactory(
                customer=c,
                occurred_at=timezone.now() - dt.timedelta(hours=1),
                channel="webinar",
                kind="attended",
            )
            announce_customers_changed(customer_ids=[c.pk], source="test")
    assert member_npis(base) == member_npis(ref) == {c.npi}


def test_data_change_leaves_drafts_alone(brand, django_capture_on_commit_callbacks):
    c = CustomerFactory(decile=9)
    draft = make_segment(brand, "drafty", HIGH)
    with django_capture_on_commit_callbacks(execute=True):
        announce_customers_changed(customer_ids=[c.pk], source="test")
    assert member_npis(draft) == set()


def test_a_burst_becomes_a_handful_of_tasks(django_capture_on_commit_callbacks):
    ids = list(range(1, 10_001))
    with mock.patch.object(tasks.run_recompute_request, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=True):
            announce_customers_changed(customer_ids=ids, source="test")
    assert 1 <= send.call_count <= 10
    requests = RecomputeRequest.objects.filter(
        pk__in=[c.kwargs["args"][0] for c in send.call_args_list]
    )
    assert sorted(i for r in requests for i in r.customer_ids) == ids


def test_nothing_is_queued_before_commit(django_capture_on_commit_callbacks):
    with mock.patch.object(tasks.run_recompute_request, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            announce_customers_changed(customer_ids=[1, 2], source="test")
        assert send.call_count == 0
        assert len(callbacks) == 1
    assert RecomputeRequest.objects.count() == 1  # recorded in the transaction, not yet sent


def test_recompute_all_segments_task_runs_levels_in_order(brand):
    c = CustomerFactory(decile=9)
    base = activate(make_segment(brand, "zz-base", HIGH))
    child = activate(make_segment(brand, "child", HIGH, parent="zz-base"))
    ref = activate(make_segment(brand, "aa-ref", {"segment": "child"}))
    assert tasks.recompute_all_segments.delay().get() == 3
    assert member_npis(base) == member_npis(child) == member_npis(ref) == {c.npi}
    assert set(RecomputeRun.objects.values_list("trigger", flat=True)) == {"schedule"}


def test_time_windowed_selection_includes_dependents(brand):
    windowed = activate(make_segment(brand, "windowed", WEBINAR_30D))
    dependent = activate(make_segment(brand, "dependent", HIGH, parent="windowed"))
    rx = activate(
        make_segment(
            brand,
            "rx-recent",
            {"rx": {}, "metric": "trx", "months": 3, "sum": {"op": "gte", "value": 1}},
        )
    )
    activate(make_segment(brand, "static", HIGH))
    make_segment(brand, "draft-windowed", WEBINAR_30D)
    chosen = {v.pk for v in selectors.time_windowed_active_versions()}
    assert chosen == {windowed.pk, dependent.pk, rx.pk}


def test_time_windowed_task_recomputes_them(brand):
    c = CustomerFactory()
    InteractionFactory(
        customer=c,
        occurred_at=timezone.now() - dt.timedelta(days=1),
        channel="webinar",
        kind="attended",
    )
    version = activate(make_segment(brand, "windowed", WEBINAR_30D))
    assert tasks.recompute_time_windowed_segments.delay().get() == 1
    assert member_npis(version) == {c.npi}


def test_version_task_returns_the_result(brand):
    CustomerFactory(decile=9)
    version = make_segment(brand, "high", HIGH)
    result = tasks.recompute_version_task.delay(version.pk, "2026-03-01T00:00:00Z").get()
    assert (result["entered"], result["as_of"], result["segment"]) == (
        1,
        "2026-03-01T00:00:00Z",
        "high",
    )


def test_command_recomputes_active_and_unactivated_segments(brand, capsys):
    c = CustomerFactory(decile=9)
    active = activate(make_segment(brand, "live", HIGH))
    draft_only = make_segment(brand, "fresh", HIGH)
    call_command("recompute_segments", "--as-of", "2026-03-01T00:00:00Z")
    out = capsys.readouterr().out
    assert "live v1: entered 1, exited 0, members 1" in out
    assert "fresh v1: entered 1" in out
    assert member_npis(active) == member_npis(draft_only) == {c.npi}
    assert RecomputeRun.objects.filter(as_of=AS_OF).count() == 2


def test_command_for_one_segment(brand, capsys):
    CustomerFactory(decile=9)
    make_segment(brand, "one", HIGH)
    other = make_segment(brand, "other", HIGH)
    call_command("recompute_segments", "--segment", "one")
    assert capsys.readouterr().out.startswith("one v1:")
    assert member_npis(other) == set()


def test_command_rejects_bad_as_of():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("recompute_segments", "--as-of", "next tuesday")


def test_command_rejects_unknown_segment(db):
    with pytest.raises(CommandError, match="nope"):
        call_command("recompute_segments", "--segment", "nope")
