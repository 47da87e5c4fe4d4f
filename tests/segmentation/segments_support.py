"""Small helpers shared by the segment tests: a fixed clock and segment set-up."""

from __future__ import annotations

import datetime as dt

from segmentation import services
from segmentation.models import Membership, SegmentVersion

AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)

ALWAYS = {"all": []}
NEVER = {"any": []}

# rules.md's example, verbatim.
EXAMPLE_ENTRY = {
    "all": [
        {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]},
        {"field": "decile", "op": "gte", "value": 7},
        {
            "any": [
                {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 90},
                {
                    "event": {"channel": "rep_visit"},
                    "within_days": 30,
                    "count": {"op": "gte", "value": 2},
                },
            ]
        },
        {"not": {"field": "state", "op": "eq", "value": "CA"}},
    ]
}
EXAMPLE_EXIT = {"event": {}, "within_days": 180, "count": {"op": "eq", "value": 0}}


def make_segment(user, key: str, entry_rule, exit_rule=None, parent=None, **kwargs):
    """Create a segment through the service and return its version 1."""
    kwargs.setdefault("name", key.replace("-", " ").title())
    kwargs.setdefault("purpose", "promotional")
    segment = services.segment_create(
        user=user, key=key, entry_rule=entry_rule, exit_rule=exit_rule, parent=parent, **kwargs
    )
    return segment.versions.get(number=1)


def activate(version: SegmentVersion) -> SegmentVersion:
    """Force a version active (governance's sign-off is tested elsewhere)."""
    SegmentVersion.objects.filter(pk=version.pk).update(state="active")
    version.refresh_from_db()
    return version


def member_npis(version: SegmentVersion) -> set[str]:
    return set(Membership.objects.filter(version=version).values_list("customer__npi", flat=True))
