"""Helpers for governance and content tests: segments through the services, sign-off."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from content.models import ContentAsset
from governance import services as governance
from segmentation import services as segments
from segmentation.models import SegmentVersion
from tests.factories.accounts import DEFAULT_PASSWORD

PASSWORD = DEFAULT_PASSWORD
CARDIOLOGY = {"field": "specialty", "op": "eq", "value": "cardiology"}


def draft(author, key: str = "cardio", **kwargs) -> SegmentVersion:
    """A segment's draft version 1, created through the segment service."""
    kwargs.setdefault("name", key.title())
    kwargs.setdefault("purpose", "promotional")
    kwargs.setdefault("indications", ["heart_failure"])
    kwargs.setdefault("entry_rule", CARDIOLOGY)
    segment = segments.segment_create(user=author, key=key, **kwargs)
    return segment.versions.get(number=1)


def sign(version, user, team: str, decision: str = "approve", comment: str = "ok"):
    return governance.sign_version(
        user=user, version=version, team=team, decision=decision, comment=comment, password=PASSWORD
    )


def approve_all(version, brand, access, medical) -> SegmentVersion:
    for user, team in ((brand, "brand"), (access, "access"), (medical, "medical")):
        sign(version, user, team)
    version.refresh_from_db()
    return version


def active_segment(make_user, key: str = "cardio", **kwargs) -> SegmentVersion:
    """A segment whose version 1 went draft -> in_review -> approved -> active."""
    author = make_user("brand")
    version = draft(author, key, **kwargs)
    governance.submit_version(user=author, version=version)
    approve_all(version, make_user("brand"), make_user("access"), make_user("medical"))
    return governance.activate_version(user=author, version=version)


def asset(code: str = "US-CARD-0042", **kwargs) -> ContentAsset:
    """An asset written directly (status set), for guard and field-view tests."""
    defaults = {
        "title": "Heart failure dosing guide",
        "audience": "hcp",
        "intent": "promotional",
        "therapy_area": "cardiology",
        "indications": ["heart_failure"],
        "channels": ["email", "rep_visit"],
        "mlr_status": "approved",
        "mlr_reference": "MLR-1",
        "mlr_approved_at": timezone.now(),
        "expires_at": timezone.now() + dt.timedelta(days=90),
    }
    defaults.update(kwargs)
    return ContentAsset.objects.create(code=code, **defaults)
