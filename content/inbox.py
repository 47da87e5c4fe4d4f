"""Inbox sections about content: mappings to decide, assets expiring soon, revocations,
and the brand's decided proposals."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import allowed
from core.inbox import InboxItem, InboxSection

from .models import ContentAsset, ContentMapping, MappingState, MlrStatus

RECENT_DAYS = 30
EXPIRY_DAYS = 30


def _mapping_url(mapping) -> str:
    return reverse("content:mapping_detail", args=[mapping.pk])


def _segment_url(mapping) -> str:
    return reverse("segmentation:segment_detail", args=[mapping.segment.key])


def mappings_to_decide(*, user) -> list[ContentMapping]:
    if not allowed(user, "decide_mapping"):
        return []
    return list(
        ContentMapping.objects.filter(state=MappingState.PROPOSED)
        .select_related("asset", "segment", "proposed_by")
        .order_by("proposed_at", "id")[:50]
    )


def assets_expiring(*, user, days: int = EXPIRY_DAYS) -> list[ContentAsset]:
    """Approved assets whose MLR approval ends within ``days`` (their mappings go with it)."""
    if not allowed(user, "set_asset_status"):
        return []
    now = timezone.now()
    return list(
        ContentAsset.objects.filter(
            mlr_status=MlrStatus.APPROVED,
            expires_at__gte=now,
            expires_at__lte=now + timedelta(days=days),
        ).order_by("expires_at", "code")[:50]
    )


def recent_revocations(*, user, mine_only: bool) -> list[ContentMapping]:
    """Mappings revoked lately: all of them for compliance; for others, the ones they
    proposed or that serve a segment they wrote."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    mappings = ContentMapping.objects.filter(state=MappingState.REVOKED, revoked_at__gte=since)
    if mine_only:
        mappings = mappings.filter(Q(proposed_by=user) | Q(segment__versions__author=user))
    return list(mappings.distinct().select_related("asset", "segment").order_by("-revoked_at")[:20])


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


def content_sections(*, user) -> list[InboxSection]:
    is_compliance = allowed(user, "decide_mapping")
    to_decide = [
        InboxItem(
            text=f"{m.asset.title} ({m.asset.code}) for {m.segment.key}",
            url=_mapping_url(m),
            detail=f"proposed by {m.proposed_by.printed_name} on {m.proposed_at:%Y-%m-%d}",
        )
        for m in mappings_to_decide(user=user)
    ]
    expiring = [
        InboxItem(
            text=f"{a.title} ({a.code}) expires on {a.expires_at:%Y-%m-%d}",
            url=reverse("content:asset_detail", args=[a.code]),
            detail="renew its approval or let it expire; its mappings are revoked on expiry",
            tone="warn",
            badge="expiring",
        )
        for a in assets_expiring(user=user)
    ]
    revoked = [
        InboxItem(
            text=f"{m.asset.code} no longer used with {m.segment.key}",
            url=_segment_url(m),
            detail=f"revoked on {m.revoked_at:%Y-%m-%d}: {m.revoked_reason}",
            tone="bad",
            badge="revoked",
        )
        for m in recent_revocations(user=user, mine_only=not is_compliance)
    ]
    decided = [
        InboxItem(
            text=f"{m.asset.code} for {m.segment.key} {m.state}",
            url=_segment_url(m),
            detail=(
                f"by {m.signer_name} on {m.decided_at:%Y-%m-%d}"
                + (f": “{m.decision_comment}”" if m.decision_comment else "")
            ),
            tone="good" if m.state == MappingState.APPROVED else "bad",
            badge=m.state,
        )
        for m in my_decided_proposals(user=user)
    ]
    return [
        InboxSection(
            "mappings",
            "Mappings to decide",
            to_decide,
            hint="Open a proposal, check the guards and sign your decision.",
            order=10,
        ),
        InboxSection(
            "expiring",
            f"Assets expiring in the next {EXPIRY_DAYS} days",
            expiring,
            hint="Open the asset to renew or withdraw it.",
            order=15,
        ),
        InboxSection(
            "revoked",
            "Revocations caused" if is_compliance else "Mappings revoked",
            revoked,
            hint="Each revocation removed the asset from that segment's approved content.",
            order=40,
        ),
        InboxSection("decided", "Your proposals decided", decided, order=45),
    ]
