"""seed_demo --history-days: daily recomputes of the active segments at past dates, so every
chart has a shape on a fresh demo (docs/pages.md)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from segmentation.models import RecomputeRun, SegmentVersion

pytestmark = pytest.mark.django_db


def test_history_days_replay_daily_recomputes_of_active_segments():
    call_command(
        "seed_demo",
        "--customers",
        "800",
        "--seed",
        "7",
        "--anchor",
        timezone.now().date().isoformat(),
        "--history-days",
        "5",
        stdout=StringIO(),
    )
    active = SegmentVersion.objects.filter(state="active")
    assert active.exists()
    days = {run.as_of.date() for run in RecomputeRun.objects.filter(version__in=active)}
    assert len(days) >= 2  # past days as well as today
    assert not RecomputeRun.objects.exclude(version__in=active).exists()
