"""What activation's services announce to its own task layer (docs/architecture.md).

Services never import ``tasks.py`` (tasks call services): when a publication
needs a sync, or a new sync needs delivering, the service sends one of these
signals once its transaction has committed, and ``receivers.py`` queues the
Celery task.
"""

from __future__ import annotations

from django.dispatch import Signal

sync_requested = Signal()  # kwargs: publication_id, trigger, full
delivery_due = Signal()  # kwargs: publication_id
