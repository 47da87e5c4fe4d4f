"""Content reads. Nothing here serves an approved asset past its expiry date as approved."""

from __future__ import annotations

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils import timezone

from core.errors import NotFound

from .models import ContentAsset, ContentMapping, MappingState, MlrStatus


def live_asset_q(prefix: str = "") -> Q:
    """Approved and not past its expiry date (evaluated at query time)."""
    now = timezone.now()
    return Q(**{f"{prefix}mlr_status": MlrStatus.APPROVED}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def asset_list(*, status: str | None = None, audience: str | None = None) -> QuerySet:
    """Assets with ``effective_status``: an approved asset whose date passed reads as expired."""
    now = timezone.now()
    qs = ContentAsset.objects.annotate(
        effective_status=Case(
            When(
                mlr_status=MlrStatus.APPROVED,
                expires_at__lte=now,
                then=Value(MlrStatus.EXPIRED.value),
            ),
            default="mlr_status",
            output_field=CharField(),
        )
    ).order_by("code")
    if status:
        qs = qs.filter(effective_status=status)
    if audience:
        qs = qs.filter(audience=audience)
    return qs


def asset_get(*, code: str) -> ContentAsset:
    """The asset with this code (status as of now), or NotFound (404); like ``segment_get``."""
    asset = asset_list().filter(code=code).first()
    if asset is None:
        raise NotFound(f"no asset {code}", path="code")
    return asset


def mapping_list(*, state: str | None = None, segment: str | None = None, asset: str | None = None):
    """Mappings, newest first. An approved mapping whose asset is no longer live is excluded
    from ``state=approved`` even before the expiry job has revoked it."""
    qs = ContentMapping.objects.select_related(
        "asset", "segment", "segment_version", "proposed_by", "decided_by"
    ).order_by("-proposed_at", "-id")
    if state:
        qs = qs.filter(state=state)
        if state == MappingState.APPROVED:
            qs = qs.filter(live_asset_q("asset__"))
    if segment:
        qs = qs.filter(segment__key=segment)
    if asset:
        qs = qs.filter(asset__code=asset)
    return qs


def live_mappings() -> QuerySet:
    """Approved mappings whose asset is live: what field views and exports may show."""
    return ContentMapping.objects.filter(state=MappingState.APPROVED).filter(
        live_asset_q("asset__")
    )
