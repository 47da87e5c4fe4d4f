"""Segment writes: drafts, recomputes, and reactions to changed customer data."""

from __future__ import annotations

from collections.abc import Iterable


def notify_customers_changed(*, customer_ids: Iterable[int]) -> None:
    """Schedule an incremental recompute of active segments for these customers.

    Called by imports and the interactions API inside their transaction; the
    work is queued with ``transaction.on_commit``. (Placeholder until the
    recompute service lands: it does nothing yet.)
    """
    return None
