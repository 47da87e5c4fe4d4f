"""An asset's status as of now: an approved asset past its expiry date counts as expired.

Kept apart so assets and mappings (which both need it) don't import each other.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ..models import ContentAsset, MlrStatus


def effective_status(asset: ContentAsset, now: datetime | None = None) -> str:
    """The status an asset has *now*: an approved asset past its expiry date is expired."""
    if is_due(asset, now):
        return MlrStatus.EXPIRED
    return asset.mlr_status


def is_due(asset: ContentAsset, now: datetime | None = None) -> bool:
    return (
        asset.mlr_status == MlrStatus.APPROVED
        and asset.expires_at is not None
        and asset.expires_at <= (now or timezone.now())
    )
