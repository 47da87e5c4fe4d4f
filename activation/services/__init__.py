"""Activation writes, one module per job (docs/activation.md):

* ``holdout``: the fixed holdout rule, in Python and in SQL;
* ``destinations``: create and change destinations (admin);
* ``publications``: publish a segment, pause and resume;
* ``syncs``: the set-based difference, numbered syncs, the compliance gate;
* ``delivery``: webhook and file delivery, in order, with retries;
* ``measurement``: sent versus holdout engagement and the lift with its interval, a verdict
  and the minimum detectable effect for every figure (``prescribing``: the rx part,
  ``measured``: what both share);
* ``planning``: what each holdout percentage could detect, for the Publish form.
"""

from .delivery import DeliveryOutcome, deliver_publication, due_publication_ids, request_sync
from .destinations import (
    create_destination,
    destination_snapshot,
    reencrypt_destination_secrets,
    update_destination,
)
from .holdout import holdout_bucket, in_holdout
from .measurement import publication_measurement
from .planning import holdout_power
from .publications import (
    create_publication,
    pause_publication,
    publication_snapshot,
    resume_publication,
)
from .syncs import (
    Gate,
    publication_gate,
    sync_message,
    sync_publication,
)

__all__ = [
    "DeliveryOutcome",
    "Gate",
    "create_destination",
    "create_publication",
    "deliver_publication",
    "destination_snapshot",
    "due_publication_ids",
    "holdout_bucket",
    "holdout_power",
    "in_holdout",
    "pause_publication",
    "publication_gate",
    "publication_measurement",
    "publication_snapshot",
    "reencrypt_destination_secrets",
    "request_sync",
    "resume_publication",
    "sync_message",
    "sync_publication",
    "update_destination",
]
