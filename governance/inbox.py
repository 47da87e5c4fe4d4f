"""The inbox sections governance knows: versions to sign, approved versions to activate,
versions sent back.

Each app adds its own sections through ``core.inbox`` (content: mappings and expiring
assets; customers: imports; activation: paused publications and failed deliveries);
``inbox()`` collects them all for the inbox page and the dashboard's fragment.
"""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.permissions import SIGNING_TEAMS, allowed
from core.inbox import InboxItem, InboxSection, sections_for
from segmentation.models import SegmentVersion, VersionState

from .models import Decision, Signature

RECENT_DAYS = 30


def awaiting_my_signature(*, user) -> list[dict]:
    """Versions in review that one of the user's teams has not approved yet, which the
    user did not write and has not signed in this round."""
    if not allowed(user, "sign_segment"):
        return []
    my_teams = [t for t in SIGNING_TEAMS if user.has_role(t)]
    versions = (
        SegmentVersion.objects.filter(state=VersionState.IN_REVIEW)
        .exclude(author=user)
        .select_related("segment", "author")
        .prefetch_related("signatures")
        .order_by("submitted_at", "id")
    )
    rows = []
    for version in versions:
        live = [s for s in version.signatures.all() if s.voided_at is None]
        if any(s.signer_id == user.pk for s in live):
            continue
        approved = {s.team for s in live if s.decision == Decision.APPROVE}
        teams = [t for t in my_teams if t not in approved]
        if teams:
            rows.append({"version": version, "teams": teams})
    return rows


def my_rejected_versions(*, user) -> list[Signature]:
    """The rejection of each of the user's versions sent back to draft (latest first)."""
    since = timezone.now() - timedelta(days=RECENT_DAYS * 3)
    rejects = (
        Signature.objects.filter(
            decision=Decision.REJECT,
            version__author=user,
            version__state=VersionState.DRAFT,
            signed_at__gte=since,
        )
        .select_related("version", "version__segment")
        .order_by("-signed_at")
    )
    seen, rows = set(), []
    for sig in rejects:
        if sig.version_id not in seen:
            seen.add(sig.version_id)
            rows.append(sig)
    return rows


def approved_to_activate(*, user) -> list[SegmentVersion]:
    """Versions every team approved, waiting for someone who may activate them."""
    if not allowed(user, "activate_segment"):
        return []
    return list(
        SegmentVersion.objects.filter(state=VersionState.APPROVED)
        .select_related("segment")
        .order_by("submitted_at", "id")
    )


def _segment_url(version) -> str:
    return reverse("segmentation:segment_detail", args=[version.segment.key])


def governance_sections(*, user) -> list[InboxSection]:
    awaiting = [
        InboxItem(
            text=f"{row['version'].name} (version {row['version'].number})",
            url=reverse(
                "governance:review_detail",
                args=[row["version"].segment.key, row["version"].number],
            ),
            detail=(
                f"by {row['version'].author.printed_name}, for the {' or '.join(row['teams'])} team"
            ),
        )
        for row in awaiting_my_signature(user=user)
    ]
    approved = [
        InboxItem(
            text=f"{v.name} (version {v.number}) is approved",
            url=_segment_url(v),
            detail="every team signed; activate it on the segment page",
            tone="good",
            badge="approved",
        )
        for v in approved_to_activate(user=user)
    ]
    rejected = [
        InboxItem(
            text=f"{sig.version.name} (version {sig.version.number}) was rejected",
            url=_segment_url(sig.version),
            detail=(
                f"by {sig.signer_name} ({sig.team}) on {sig.signed_at:%Y-%m-%d}: “{sig.comment}”"
            ),
            tone="bad",
            badge="rejected",
        )
        for sig in my_rejected_versions(user=user)
    ]
    return [
        InboxSection(
            "awaiting",
            "Awaiting your signature",
            awaiting,
            hint="Open a version to read it and sign.",
            order=10,
        ),
        InboxSection(
            "approved",
            "Approved, ready to activate",
            approved,
            hint="Open the segment and press Activate.",
            order=20,
        ),
        InboxSection(
            "rejected",
            "Your versions rejected",
            rejected,
            hint="Edit the draft and submit it again.",
            order=25,
        ),
    ]


def inbox(*, user) -> dict:
    """Every section the user's inbox shows, from every app (work to do first)."""
    sections = sections_for(user=user)
    return {"sections": sections, "empty": not sections}
