"""How activation reacts to the floors below it (docs/activation.md, "When syncs happen").

* ``membership_changed``: a recompute changed an active version -> sync its publications;
* ``mappings_changed``: approved content changed -> sync (the gate may close: final sync);
* ``version_state_changed``: activated or retired -> sync;
* ``customers_changed`` (inside the data change's transaction): opt-outs -> sync the
  email publications that hold or could hold these customers, on commit.

Work is queued with ``transaction.on_commit``; the sync service decides what, if
anything, to send.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from content.signals import mappings_changed
from customers.signals import customers_changed
from customers.vocabularies import Channel
from governance.signals import version_state_changed
from segmentation.models import VersionState
from segmentation.signals import membership_changed

from .models import OptOutCheck, Publication, PublicationMember, PublicationState
from .signals import delivery_due, sync_requested
from .tasks import deliver_publication_task, sync_publication_task

CHUNK = 2000
# Changes that cannot touch a customer's email opt-out (engagement, prescribing,
# accounts, and the public files, which carry no opt-out: an NPPES import can
# announce millions of customers).
SOURCES_WITHOUT_OPT_OUTS = frozenset(
    {
        "import:interactions",
        "import:rx",
        "import:accounts",
        "api:interactions",
        "import:nppes",
        "import:taxonomy",
        "import:partd",
        "import:alignment",
    }
)


def _queue(publication_ids, trigger: str) -> None:
    ids = sorted(set(publication_ids))

    def enqueue() -> None:
        for publication_id in ids:
            sync_publication_task.delay(publication_id, trigger)

    if ids:
        transaction.on_commit(enqueue)


def _publication_ids(segment_keys, *, live_only: bool) -> list[int]:
    qs = Publication.objects.filter(segment__key__in=list(segment_keys))
    if live_only:
        qs = qs.filter(state=PublicationState.LIVE)
    return list(qs.values_list("pk", flat=True))


@receiver(membership_changed, dispatch_uid="activation.sync_on_membership_change")
def sync_on_membership_change(sender, *, segment_key: str, state: str, **kwargs) -> None:
    if state == VersionState.ACTIVE:
        _queue(_publication_ids([segment_key], live_only=True), "recompute")


@receiver(mappings_changed, dispatch_uid="activation.sync_on_mappings_change")
def sync_on_mappings_change(sender, *, segment_keys, reason: str = "", **kwargs) -> None:
    # Paused publications too: a closed gate still exits everyone they hold.
    _queue(_publication_ids(segment_keys, live_only=False), "content_changed")


@receiver(version_state_changed, dispatch_uid="activation.sync_on_version_state_change")
def sync_on_version_state_change(sender, *, segment_key: str, state: str, **kwargs) -> None:
    if state in (VersionState.ACTIVE, VersionState.RETIRED):
        _queue(_publication_ids([segment_key], live_only=False), f"version_{state}")


@receiver(customers_changed, dispatch_uid="activation.sync_on_customers_change")
def sync_on_customers_change(sender, *, customer_ids, source: str = "", **kwargs) -> None:
    """Email publications must stop holding customers who opted out (``suppressed``).

    Runs inside the data change's transaction: it records which decided members
    of email publications to re-check (``OptOutCheck``, committed with the
    change), and queues their syncs for after the commit.
    """
    if source in SOURCES_WITHOUT_OPT_OUTS:
        return
    ids = list(customer_ids)
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        pairs = list(
            PublicationMember.objects.filter(
                customer_id__in=chunk, publication__destination__channel=Channel.EMAIL
            ).values_list("publication_id", "customer_id")
        )
        OptOutCheck.objects.bulk_create(
            (OptOutCheck(publication_id=p, customer_id=c) for p, c in pairs),
            ignore_conflicts=True,
        )
        found.update(p for p, _ in pairs)
    live = Publication.objects.filter(pk__in=found, state=PublicationState.LIVE)
    _queue(live.values_list("pk", flat=True), "customers_changed")


@receiver(sync_requested, dispatch_uid="activation.queue_requested_sync")
def queue_requested_sync(sender, *, publication_id: int, trigger: str, full: bool, **kwargs):
    """A service asked for a sync (already on commit): queue it."""
    sync_publication_task.delay(publication_id, trigger, full)


@receiver(delivery_due, dispatch_uid="activation.queue_delivery")
def queue_delivery(sender, *, publication_id: int, **kwargs) -> None:
    """A sync was made (already on commit): queue its delivery."""
    deliver_publication_task.delay(publication_id)
