"""Celery tasks: load ids, call a service, return plain data (docs/activation.md, "Delivery").

Retries with exponential backoff happen in ``deliver_publication_task`` (on a
real worker; eagerly run tasks leave the retry to the beat job and to the
on-demand sync, so a request never sleeps through a backoff).
"""

from __future__ import annotations

from celery import shared_task

from .models import Publication, PublicationState
from .services import deliver_publication, due_publication_ids, sync_publication

MAX_DELIVERY_RETRIES = 50


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def sync_publication_task(publication_id: int, trigger: str = "", full: bool = False) -> int | None:
    """Make the publication's next sync if anything differs; its delivery is queued on commit."""
    if not Publication.objects.filter(pk=publication_id).exists():
        return None
    sync = sync_publication(publication_id=publication_id, trigger=trigger, full=full)
    return sync.number if sync is not None else None


@shared_task(bind=True, acks_late=True, max_retries=MAX_DELIVERY_RETRIES)
def deliver_publication_task(self, publication_id: int, force: bool = False) -> dict | None:
    """Deliver undelivered syncs in order; a failure retries with the service's backoff."""
    if not Publication.objects.filter(pk=publication_id).exists():
        return None
    outcome = deliver_publication(publication_id=publication_id, force=force)
    if outcome.retry_in is not None and not self.request.is_eager:
        if self.request.retries < MAX_DELIVERY_RETRIES:
            raise self.retry(countdown=max(outcome.retry_in, 1.0))
    return outcome.as_dict()


@shared_task
def reconcile_publications() -> int:
    """Nightly: a full sync of every live publication (every held customer's opt-out re-read)."""
    ids = list(Publication.objects.filter(state=PublicationState.LIVE).values_list("pk", flat=True))
    for publication_id in ids:
        sync_publication_task.delay(publication_id, "reconcile", True)
    return len(ids)


@shared_task
def retry_due_deliveries() -> int:
    """Beat, every minute: queue delivery for publications with a pending or due sync."""
    ids = due_publication_ids()
    for publication_id in ids:
        deliver_publication_task.delay(publication_id)
    return len(ids)
