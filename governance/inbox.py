"""A user's inbox on the dashboard: what waits for them and what happened to their work.

Governance is the highest floor that knows versions, signatures, mappings and imports
(docs/architecture.md), so the inbox is built here and served to the dashboard as
an htmx fragment.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.permissions import SIGNING_TEAMS, allowed
from content.models import ContentMapping, MappingState
from customers.models import ImportRun
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


def my_decided_proposals(*, user) -> list[ContentMapping]:
    """The user's mapping proposals compliance approved or rejected lately."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return list(
        ContentMapping.objects.filter(
            proposed_by=user,
            state__in=(MappingState.APPROVED, MappingState.REJECTED),
            decided_at__gte=since,
        )
        .select_related("asset", "segment")
        .order_by("-decided_at")[:20]
    )


def revoked_mappings(*, user) -> list[ContentMapping]:
    """Mappings revoked lately that the user proposed or that serve a segment they wrote."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return list(
        ContentMapping.objects.filter(state=MappingState.REVOKED, revoked_at__gte=since)
        .filter(Q(proposed_by=user) | Q(segment__versions__author=user))
        .distinct()
        .select_related("asset", "segment")
        .order_by("-revoked_at")[:20]
    )


def my_imports(*, user) -> list[ImportRun]:
    """The user's imports of the last weeks, finished or failed."""
    if not allowed(user, "import_data"):
        return []
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return list(
        ImportRun.objects.filter(user=user, started_at__gte=since).order_by("-started_at")[:10]
    )


def inbox(*, user) -> dict:
    """Everything the dashboard's inbox shows, by section."""
    sections = {
        "awaiting": awaiting_my_signature(user=user),
        "rejected": my_rejected_versions(user=user),
        "decided": my_decided_proposals(user=user),
        "revoked": revoked_mappings(user=user),
        "imports": my_imports(user=user),
    }
    sections["empty"] = not any(sections.values())
    return sections
