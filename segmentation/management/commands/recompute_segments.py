"""``manage.py recompute_segments [--segment KEY] [--as-of ISO_DATETIME] [--active-only]``.

Without ``--segment``: every active version, plus the latest version of each
segment that has none (running the command *is* asking for them), in
dependency order; ``--active-only`` leaves drafts and versions in review alone
(``make demo`` uses it, so a draft never shows entries it never had). With
``--segment``: that segment's active version, else its latest. One line per recomputed version.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from core.errors import DomainError
from segmentation import services
from segmentation.models import RecomputeTrigger


def parse_as_of(raw: str):
    """An ISO 8601 date-time (naive means UTC) or a date (its midnight UTC)."""
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is not None:
                moment = parse_datetime(f"{day.isoformat()}T00:00:00+00:00")
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(
            f"--as-of: '{raw}' is not an ISO 8601 date-time (e.g. 2026-01-31T00:00:00Z)"
        )
    return moment


class Command(BaseCommand):
    help = "Recompute segment membership (all active versions, or one segment)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--segment", metavar="KEY", help="recompute only this segment")
        parser.add_argument(
            "--as-of", dest="as_of", metavar="ISO_DATETIME", help="evaluate at this time (UTC)"
        )
        parser.add_argument(
            "--active-only",
            action="store_true",
            dest="active_only",
            help="recompute active versions only (not the latest version of other segments)",
        )

    def handle(self, *args, segment=None, as_of=None, active_only=False, **options) -> None:
        moment = parse_as_of(as_of) if as_of else None
        try:
            if segment:
                results = services.recompute_segment_keys(
                    keys=[segment], as_of=moment, trigger=RecomputeTrigger.MANUAL
                )
            elif active_only:
                results = services.recompute_all(as_of=moment, trigger=RecomputeTrigger.MANUAL)
            else:
                results = services.recompute_everything(
                    as_of=moment, trigger=RecomputeTrigger.MANUAL
                )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        for r in results:
            self.stdout.write(
                f"{r.segment} v{r.version}: entered {r.entered}, exited {r.exited}, "
                f"members {r.member_count}, {r.duration_ms} ms"
            )
        if not results:
            self.stdout.write("no segments to recompute")
