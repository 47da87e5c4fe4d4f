"""Set-up shared by the activation tests: a published segment with members and content."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from activation.models import SyncChange
from activation.services import create_publication, sync_message, sync_publication
from content.models import ContentMapping
from segmentation.models import SegmentVersion
from tests.factories import CustomerFactory
from tests.factories.activation import DestinationFactory
from tests.governance.support import asset
from tests.segmentation.segments_support import activate, make_segment, set_members

CARDIOLOGY = {"field": "specialty", "op": "eq", "value": "cardiology"}
AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def members(version: SegmentVersion, customers) -> None:
    """Make exactly ``customers`` the members of ``version`` (the engine is tested elsewhere)."""
    set_members(version, [c.pk for c in customers], as_of=AS_OF)


def active_version(brand, key: str = "cardio", customers=()) -> SegmentVersion:
    version = activate(make_segment(brand, key, CARDIOLOGY, indications=["heart_failure"]))
    members(version, customers)
    return version


def approved_mapping(version: SegmentVersion, brand, code: str = "US-CARD-0042", **asset_kwargs):
    """An approved mapping of a live asset (channels email and rep_visit by default)."""
    return ContentMapping.objects.create(
        asset=asset(code, **asset_kwargs),
        segment=version.segment,
        segment_version=version,
        state="approved",
        rationale="fits",
        proposed_by=brand,
        proposed_at=timezone.now(),
    )


def cardiologists(n: int, **kwargs):
    return [CustomerFactory(specialty="cardiology", **kwargs) for _ in range(n)]


def held_npis(publication) -> set[str]:
    """Replay every message of the publication: entered minus later exited, checked as we go."""
    held: set[str] = set()
    for sync in publication.syncs.order_by("number"):
        message = sync_message(sync)
        for row in message["entered"]:
            assert row["npi"] not in held, f"{row['npi']} entered twice"
            held.add(row["npi"])
        for row in message["exited"]:
            assert row["npi"] in held, f"{row['npi']} exited without being held"
            held.discard(row["npi"])
    return held


def reasons(sync) -> dict[str, str]:
    return dict(SyncChange.objects.filter(sync=sync, action="exit").values_list("npi", "reason"))


def published_to_email(brand, *, customers: int, holdout: int, name: str = "Email platform"):
    """The cardio segment (``customers`` cardiologists, one approved asset) published to an
    email destination ``esp`` with ``holdout`` percent held out, after its first sync."""
    version = active_version(brand, customers=cardiologists(customers))
    approved_mapping(version, brand)
    destination = DestinationFactory(key="esp", name=name, channel="email")
    publication = create_publication(
        user=brand,
        segment=version.segment,
        destination_key=destination.key,
        holdout_percent=holdout,
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    return publication
