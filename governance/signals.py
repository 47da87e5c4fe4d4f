"""What the governance floor announces to the floors above it (docs/architecture.md).

``version_state_changed`` is sent once the transaction that moved a segment
version through its lifecycle (submit, approve, reject, activate, supersede,
retire) has committed. kwargs: ``version_id``, ``segment_key``,
``version_number``, ``action`` and ``state`` (the new state).
"""

from __future__ import annotations

from django.dispatch import Signal

version_state_changed = Signal()
