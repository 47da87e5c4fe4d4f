"""What the content floor announces to the floors above it (docs/architecture.md).

``mappings_changed`` is sent once the transaction that approved or revoked
content-to-segment mappings has committed. kwargs: ``segment_keys`` (sorted
list of the segments whose approved content changed), ``asset_codes`` and
``reason`` (``approved``, or the revocation's reason). Activation listens, to
update what it sends and to stop sending when approved content is gone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

mappings_changed = Signal()


def announce_mappings_changed(
    *, segment_keys: Iterable[str], asset_codes: Iterable[str], reason: str
) -> None:
    """Send ``mappings_changed`` when the current transaction commits (at once outside one)."""
    keys, codes = sorted(set(segment_keys)), sorted(set(asset_codes))
    if not keys:
        return
    transaction.on_commit(
        lambda: mappings_changed.send(
            sender=announce_mappings_changed, segment_keys=keys, asset_codes=codes, reason=reason
        )
    )
