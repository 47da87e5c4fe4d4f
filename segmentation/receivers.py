"""How segmentation reacts to lower floors: changed customers record a recompute request.

Connected in ``SegmentationConfig.ready``. ``customers_changed`` is sent inside
the data change's transaction, so the request rows (the outbox,
``segmentation.outbox``) commit with the change, a rolled-back import records
nothing, and a broker outage delays the recompute but never loses it nor fails
the import (docs/architecture.md, "How a customer change becomes a membership change").
"""

from __future__ import annotations

from django.dispatch import receiver

from customers.signals import accounts_changed, customers_changed

from .outbox import INCREMENTAL_CHUNK, record_account_recompute_request, record_recompute_request
from .tasks import send_recompute_request

__all__ = ["INCREMENTAL_CHUNK", "queue_incremental_recompute"]


@receiver(customers_changed, dispatch_uid="segmentation.queue_incremental_recompute")
def queue_incremental_recompute(
    sender, *, customer_ids: list[int], source: str = "", **kwargs
) -> None:
    """Record an incremental recompute of active segments for these customers (the outbox)."""
    record_recompute_request(
        customer_ids=list(customer_ids), source=source, send=send_recompute_request
    )


@receiver(accounts_changed, dispatch_uid="segmentation.queue_account_recompute")
def queue_account_recompute(sender, *, source: str = "", **kwargs) -> None:
    """Record a recompute of the active segments reading accounts (no customer ids)."""
    record_account_recompute_request(source=source, send=send_recompute_request)
