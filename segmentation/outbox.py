"""The recompute outbox: requests committed with the data change, handed to Celery later.

docs/architecture.md ("How a customer change becomes a membership change"):

1. ``record_recompute_request`` writes ``RecomputeRequest`` rows (chunks of up
   to ``INCREMENTAL_CHUNK`` ids) inside the data change's transaction and asks
   for a dispatch on commit;
2. ``dispatch_requests`` hands pending requests to Celery. A broker outage is
   logged and swallowed: the change has committed, and the rows wait. Every
   worker (re)connection to the broker, beat's start and beat's minute task
   ``segmentation.tasks.dispatch_recompute_requests`` dispatch again, also
   re-sending a request whose message was lost (dispatched or started longer
   than ``OUTBOX_REDISPATCH_AFTER`` ago and not done);
3. ``run_request`` (the task) claims the request with a conditional update, so
   two deliveries of one request never both run it, recomputes, and marks it
   done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from .models import RecomputeRequest
from .services import recompute_for_customers

logger = logging.getLogger(__name__)

# Customer ids per request: keeps every statement well under SQLite's
# bound-parameter limit while a burst of 10,000 changes is still a few tasks.
INCREMENTAL_CHUNK = 2000
# Requests handed to the broker per dispatch call.
DISPATCH_BATCH = 500


def record_recompute_request(
    *, customer_ids: list[int], source: str, send: Callable[[int], None]
) -> list[int]:
    """Write the requests in the caller's transaction; dispatch them once it commits."""
    ids = sorted({int(i) for i in customer_ids})
    pks = [
        RecomputeRequest.objects.create(
            customer_ids=ids[start : start + INCREMENTAL_CHUNK], source=source[:64]
        ).pk
        for start in range(0, len(ids), INCREMENTAL_CHUNK)
    ]
    transaction.on_commit(lambda: _dispatch_after_commit(pks=pks, send=send))
    return pks


def record_account_recompute_request(*, source: str, send: Callable[[int], None]) -> int:
    """A request without customer ids: the account segments its source affects, in full."""
    pk = RecomputeRequest.objects.create(customer_ids=[], source=source[:64]).pk
    transaction.on_commit(lambda: _dispatch_after_commit(pks=[pk], send=send))
    return pk


def _dispatch_after_commit(*, pks: list[int], send: Callable[[int], None]) -> None:
    # The change has committed: nothing here may fail the request that made it.
    try:
        dispatch_requests(pks=pks, send=send)
    except Exception:  # noqa: BLE001 - logged; the beat dispatcher retries the rows
        logger.exception("recompute requests %s not dispatched on commit", pks)


def _stale() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER)


def pending_requests():
    """Requests not done, never dispatched or whose message may have been lost."""
    stale = _stale()
    return RecomputeRequest.objects.filter(done_at=None).filter(
        Q(dispatched_at=None)
        | Q(dispatched_at__lt=stale, started_at=None)
        | Q(started_at__lt=stale)
    )


def dispatch_requests(*, send: Callable[[int], None], pks: list[int] | None = None) -> int:
    """Hand pending requests to Celery (``send``); stop at the first broker error.

    Never raises: a broker outage leaves the rows pending for the next dispatch.
    """
    qs = pending_requests().order_by("id")
    if pks is not None:
        qs = qs.filter(pk__in=pks)
    sent = 0
    for pk in qs.values_list("pk", flat=True)[:DISPATCH_BATCH]:
        try:
            send(pk)
        except (BrokerError, RedisError, OSError) as exc:  # the broker is down: try later
            logger.warning("recompute request %s not dispatched (broker unavailable): %s", pk, exc)
            break
        RecomputeRequest.objects.filter(pk=pk, done_at=None).update(dispatched_at=timezone.now())
        sent += 1
    return sent


def run_request(*, request_id: int) -> int | None:
    """Run one request at most once; None when it is done or another delivery holds it."""
    now = timezone.now()
    claimed = (
        RecomputeRequest.objects.filter(pk=request_id, done_at=None)
        .filter(Q(started_at=None) | Q(started_at__lt=_stale()))
        .update(started_at=now)
    )
    if not claimed:
        return None
    request = RecomputeRequest.objects.get(pk=request_id)
    results = recompute_for_customers(
        customer_ids=request.customer_ids, source=request.source or None
    )
    RecomputeRequest.objects.filter(pk=request_id).update(
        done_at=timezone.now(), attempts=request.attempts + 1
    )
    return sum(1 for r in results if r.changed)
