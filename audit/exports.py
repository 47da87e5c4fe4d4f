"""The audit log as CSV: one format for the API and the page (docs/governance.md)."""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse

from core.csv import csv_response
from core.time import iso_z

AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "action",
    "object",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
)


def _json_cell(value) -> str:
    return json.dumps(value, sort_keys=True) if value is not None else ""


def audit_csv(events, *, filename: str = "audit.csv") -> StreamingHttpResponse:
    """Stream ``events`` as CSV, times in UTC with ``Z``, formula cells neutralised."""
    rows = (
        [
            e.id,
            iso_z(e.occurred_at),
            e.actor_username,
            e.action,
            e.object,
            e.object_type,
            e.object_id,
            _json_cell(e.before),
            _json_cell(e.after),
            e.reason,
            e.prev_hash,
            e.hash,
        ]
        for e in events.iterator(chunk_size=2000)
    )
    return csv_response(header=AUDIT_COLUMNS, rows=rows, filename=filename)
