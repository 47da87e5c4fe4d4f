"""Segment writes, one module per job (docs/architecture.md):

* ``definitions``: create a segment and edit its drafts;
* ``preview``: the size of a definition that is not saved;
* ``membership``: the SQL engine that computes M' and writes the differences;
* ``recompute``: which versions to recompute, in which order, and what to announce;
* ``backtest``: who would have been members at a past date, writing nothing.

The package re-exports the public services so callers write
``services.segment_create(...)`` without knowing which module holds it.
"""

from .backtest import Backtest, backtest_version
from .definitions import (
    DEFINITION_FIELDS,
    KEY_RE,
    RESERVED_KEYS,
    content_hash,
    segment_create,
    segment_update,
    version_content,
)
from .impact import Impact, MembershipExplained, membership_explained, version_impact
from .preview import Preview, preview_rule, preview_version
from .recompute import (
    RecomputeResult,
    forward_as_of,
    recompute_all,
    recompute_everything,
    recompute_for_customers,
    recompute_segment_keys,
    recompute_version,
    recompute_with_dependents,
)

__all__ = [
    "Backtest",
    "DEFINITION_FIELDS",
    "KEY_RE",
    "RESERVED_KEYS",
    "Impact",
    "Preview",
    "RecomputeResult",
    "backtest_version",
    "content_hash",
    "forward_as_of",
    "preview_rule",
    "preview_version",
    "recompute_all",
    "recompute_everything",
    "recompute_for_customers",
    "recompute_segment_keys",
    "recompute_version",
    "recompute_with_dependents",
    "segment_create",
    "segment_update",
    "version_content",
    "version_impact",
    "membership_explained",
    "MembershipExplained",
]
