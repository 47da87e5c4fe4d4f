"""``prepare_demo`` (what ``make demo`` runs before serving) and the weekly history replay."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from activation.models import Publication
from segmentation.models import RecomputeRun, SegmentVersion

pytestmark = pytest.mark.django_db


def test_weekly_history_then_prepare_demo_recomputes_and_publishes(settings, tmp_path):
    settings.ACTIVATION_FILE_ROOT = tmp_path
    today = timezone.now().date()
    call_command(
        "seed_demo",
        "--customers",
        "800",
        "--seed",
        "7",
        "--anchor",
        today.isoformat(),
        "--history-days",
        "14",
        stdout=StringIO(),
    )
    active = SegmentVersion.objects.filter(state="active")
    days = {run.as_of.date() for run in RecomputeRun.objects.filter(version__in=active)}
    # Every seventh day of the last 14 (oldest first), then now.
    assert days == {today - timedelta(days=14), today - timedelta(days=7), today}

    out = StringIO()
    call_command("prepare_demo", stdout=out)
    text = out.getvalue()
    # The database holds data: no second seed, a recompute of the active versions instead.
    assert "migrate:" in text and "recompute:" in text and "seed:" not in text
    assert "demo publication:" in text and "demo ready in" in text
    assert Publication.objects.filter(destination__key__startswith="demo-").exists()
