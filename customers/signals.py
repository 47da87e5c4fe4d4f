"""What the customers floor announces to the floors above it (docs/architecture.md).

``customers_changed`` is sent *inside* the transaction that changed customer
data (an import, interactions posted to the API), with the ids of the
customers whose master data, affiliation, engagement or prescribing changed.
Receivers run in that transaction: they may record durable work in the same
commit, and must defer anything outside the database (a Celery message) with
``transaction.on_commit``, so a rolled-back change triggers nothing.
Customers never imports the apps that listen.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import Signal

customers_changed = Signal()  # kwargs: customer_ids (sorted list of int), source (str)


def announce_customers_changed(*, customer_ids: Iterable[int], source: str) -> None:
    """Send ``customers_changed`` for these customers; nothing when there are none."""
    ids = sorted({int(i) for i in customer_ids})
    if ids:
        customers_changed.send(sender=announce_customers_changed, customer_ids=ids, source=source)


# kwargs: source (str). Sent inside the transaction that changed account data no
# customer id stands for (coverage rows, accounts without customers): the floors
# above recompute what reads accounts.
accounts_changed = Signal()


def announce_accounts_changed(*, source: str) -> None:
    """Send ``accounts_changed`` (inside the data change's transaction)."""
    accounts_changed.send(sender=announce_accounts_changed, source=source)
