"""Content writes, one module per job (docs/architecture.md):

* ``assets``: create and edit assets, record their MLR status, expire them;
* ``mappings``: propose, decide and revoke content-to-segment mappings, and the guards;
* ``lifecycle``: an asset's status as of now (both of the above need it).

The package re-exports the public services so callers write
``services.create_asset(...)`` without knowing which module holds it.
"""

from .assets import (
    CODE_RE,
    CONTENT_FIELDS,
    EDITABLE_FIELDS,
    asset_file_bytes,
    asset_snapshot,
    clean_asset_fields,
    create_asset,
    expire_due_assets,
    parse_expiry,
    set_asset_status,
    status_moves,
    update_asset,
)
from .lifecycle import effective_status, is_due
from .mappings import (
    PURPOSE_INTENTS,
    SEGMENT_AUDIENCE,
    decide_mapping,
    mapping_guard_errors,
    mapping_meaning,
    mapping_snapshot,
    mapping_target_version,
    propose_mapping,
    revalidate_segment_mappings,
    revoke_mappings_for_asset,
    revoke_mappings_for_segment,
)

__all__ = [
    "CODE_RE",
    "CONTENT_FIELDS",
    "EDITABLE_FIELDS",
    "PURPOSE_INTENTS",
    "SEGMENT_AUDIENCE",
    "asset_file_bytes",
    "asset_snapshot",
    "clean_asset_fields",
    "create_asset",
    "decide_mapping",
    "effective_status",
    "expire_due_assets",
    "is_due",
    "mapping_guard_errors",
    "mapping_meaning",
    "mapping_snapshot",
    "mapping_target_version",
    "parse_expiry",
    "propose_mapping",
    "revalidate_segment_mappings",
    "revoke_mappings_for_asset",
    "revoke_mappings_for_segment",
    "set_asset_status",
    "status_moves",
    "update_asset",
]
