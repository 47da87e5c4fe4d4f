"""How segmentation reacts to lower floors: changed customers queue an incremental recompute.

Connected in ``SegmentationConfig.ready``. The work is queued with
``transaction.on_commit`` so a rolled-back import triggers nothing, and a burst
becomes a few tasks of up to ``INCREMENTAL_CHUNK`` ids each, not one task per
row (docs/architecture.md, "How a customer change becomes a membership change").
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from customers.signals import customers_changed

from .tasks import recompute_customers_task

# Customer ids per incremental task: keeps every statement well under SQLite's
# bound-parameter limit while a burst of 10,000 changes is still a few tasks.
INCREMENTAL_CHUNK = 2000


@receiver(customers_changed, dispatch_uid="segmentation.queue_incremental_recompute")
def queue_incremental_recompute(
    sender, *, customer_ids: list[int], source: str | None = None, **kwargs
) -> None:
    """Schedule an incremental recompute for these customers, on commit.

    The ``source`` travels with the task, so only the segments that kind of
    data can move are recomputed (``services.recompute_for_customers``).
    """
    ids = list(customer_ids)

    def enqueue() -> None:
        for start in range(0, len(ids), INCREMENTAL_CHUNK):
            recompute_customers_task.delay(ids[start : start + INCREMENTAL_CHUNK], source)

    transaction.on_commit(enqueue)
