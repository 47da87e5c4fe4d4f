"""Membership history only moves forward (docs/rules.md): a recompute with an as_of
before the version's latest run, or more than one day ahead, is refused everywhere
(API, command, tasks), changes nothing and sends nothing; a past date is a backtest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.models import AuditEvent
from core.errors import ValidationFailed
from core.models import Job
from segmentation import services, tasks
from segmentation.models import MembershipChange, RecomputeRun
from segmentation.signals import membership_changed
from tests.factories import CustomerFactory, UserFactory

from .segments_support import DAY, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def segment():
    """An active segment recomputed yesterday with two members."""
    CustomerFactory(decile=9), CustomerFactory(decile=10), CustomerFactory(decile=2)
    version = activate(make_segment(UserFactory(roles=["brand"]), "fwd", HIGH))
    services.recompute_version(version=version, as_of=timezone.now() - DAY)
    assert len(member_npis(version)) == 2
    return version


@pytest.fixture
def sent():
    """What membership_changed announced (activation's syncs follow it)."""
    calls = []

    def receiver(**kwargs):
        calls.append(kwargs)

    membership_changed.connect(receiver, weak=False, dispatch_uid="test-forward")
    yield calls
    membership_changed.disconnect(dispatch_uid="test-forward")


def _state(version):
    return (
        sorted(member_npis(version)),
        RecomputeRun.objects.count(),
        MembershipChange.objects.count(),
        AuditEvent.objects.filter(action="segment.recomputed").count(),
    )


@pytest.mark.parametrize(
    "as_of",
    ["0001-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z",
     "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"],
)  # fmt: skip
def test_api_refuses_an_as_of_that_would_move_history_backwards_or_far_ahead(
    segment, sent, client_for, as_of
):
    before = _state(segment)
    response = client_for("brand").post(
        "/api/v1/segments/fwd/recompute/", {"as_of": as_of}, format="json"
    )
    assert response.status_code == 400, response.content
    assert [e["path"] for e in response.json()["errors"]] == ["as_of"]
    assert _state(segment) == before
    assert sent == []


def test_api_refuses_before_the_latest_run_even_by_a_minute(segment, client_for):
    latest = RecomputeRun.objects.get().as_of
    body = {"as_of": (latest - dt.timedelta(minutes=1)).isoformat()}
    response = client_for("brand").post("/api/v1/segments/fwd/recompute/", body, format="json")
    assert response.status_code == 400
    assert "only moves forward" in response.json()["errors"][0]["message"]


def test_the_same_or_a_later_as_of_and_up_to_a_day_ahead_are_accepted(segment, client_for):
    latest = RecomputeRun.objects.get().as_of
    client = client_for("brand")
    for moment in (latest, timezone.now(), timezone.now() + DAY - dt.timedelta(minutes=5)):
        response = client.post(
            "/api/v1/segments/fwd/recompute/", {"as_of": moment.isoformat()}, format="json"
        )
        assert response.status_code == 200, response.content


def test_a_run_dated_ahead_moves_the_default_as_of_forward_too(segment):
    ahead = timezone.now() + dt.timedelta(hours=6)
    CustomerFactory(decile=8)
    assert services.recompute_version(version=segment, as_of=ahead).entered == 1
    result = services.recompute_version(version=segment)  # default: now, but never backwards
    assert result.as_of >= ahead


def test_queued_recompute_is_refused_before_anything_is_queued(
    segment, client_for, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(tasks.recompute_job_task, "delay", lambda *a: queued.append(a))
    jobs = Job.objects.count()
    response = client_for("brand").post(
        "/api/v1/segments/fwd/recompute/", {"as_of": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert queued == [] and Job.objects.count() == jobs


def test_the_command_prints_a_clear_error(segment):
    before = _state(segment)
    with pytest.raises(CommandError, match="as_of: .*only moves forward"):
        call_command("recompute_segments", "--segment", "fwd", "--as-of", "2000-01-01")
    with pytest.raises(CommandError, match="more than one day ahead"):
        call_command("recompute_segments", "--as-of", "2100-01-01")
    assert _state(segment) == before


def test_the_task_obeys_too(segment, sent):
    before = _state(segment)
    with pytest.raises(ValidationFailed):
        tasks.recompute_version_task(segment.pk, "2000-01-01T00:00:00+00:00")
    assert _state(segment) == before and sent == []


def test_ascending_daily_history_still_works(segment):
    start = RecomputeRun.objects.get().as_of
    for day in range(1, 4):
        services.recompute_version(version=segment, as_of=start + day * dt.timedelta(hours=6))


def test_a_scheduled_run_behind_a_run_dated_ahead_moves_forward_instead_of_failing(segment):
    ahead = timezone.now() + dt.timedelta(hours=6)
    CustomerFactory(decile=8)
    services.recompute_version(version=segment, as_of=ahead)
    result = tasks.recompute_version_task(segment.pk, timezone.now().isoformat(), "schedule")
    assert parse_datetime(result["as_of"]) >= ahead
