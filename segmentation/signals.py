"""What the segmentation floor announces to the floors above it (docs/architecture.md).

``membership_changed`` is sent once the transaction of a recompute that
changed a version's membership has committed, so listeners (activation syncs,
say) read the new membership. kwargs: ``version_id``, ``segment_key``,
``version_number``, ``state`` (the version's state), ``run_id``, ``entered``,
``exited`` (counts) and ``as_of``.
"""

from __future__ import annotations

from django.dispatch import Signal

membership_changed = Signal()
