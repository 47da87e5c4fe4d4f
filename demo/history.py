"""Membership history for the demo: recompute the active segments at past dates, so every
chart has a shape on a fresh demo (docs/rules.md, "Membership").

The seeded active versions were recomputed once, now, on activation. This step
replaces that one run by a replay: their members, runs and changes are cleared,
then every active version is recomputed (in dependency order) at 00:00 UTC of
every ``HISTORY_STEP_DAYS``-th day of the last ``days`` days (the oldest day
first) and finally now. Each run is a real recompute through
``segmentation.services``; only its ``as_of`` is in the past. A weekly replay
gives the charts the same shape as a daily one for a seventh of the seeding time
(``make demo`` must serve its first page within a minute).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from segmentation.models import (
    MembershipSpell,
    RecomputeRun,
    RecomputeTrigger,
    SegmentVersion,
)
from segmentation.services import recompute_all

from .context import SeedContext

HISTORY_DAYS = 90
HISTORY_STEP_DAYS = 7


def history_step(days: int = HISTORY_DAYS) -> Callable[[SeedContext], None]:
    """A seed step replaying the last ``days`` days of recomputes of the active versions,
    one every ``HISTORY_STEP_DAYS`` days (every day when ``days`` is shorter than that)."""

    def seed_history(ctx: SeedContext) -> None:
        active = SegmentVersion.objects.filter(state="active")
        MembershipSpell.objects.filter(version__in=active).delete()
        RecomputeRun.objects.filter(version__in=active).delete()
        active.update(member_count=0, last_recomputed_at=None, last_as_of=None)
        now = timezone.now()
        start = datetime.combine(now.date(), time(0), tzinfo=UTC)
        runs = 0
        step = HISTORY_STEP_DAYS if days > HISTORY_STEP_DAYS else 1
        for back in range(days, 0, -step):
            runs += len(
                recompute_all(as_of=start - timedelta(days=back), trigger=RecomputeTrigger.SCHEDULE)
            )
        runs += len(recompute_all(as_of=now, trigger=RecomputeTrigger.SCHEDULE))
        ctx.add("recompute runs", runs)
        ctx.report(
            f"history: {days} days of recomputes every {step} day(s), {runs} runs "
            f"({ctx.elapsed:.0f}s)"
        )

    return seed_history
