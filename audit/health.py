"""The audit anchor's health check for ``/health/`` (docs/governance.md, "Operations").

Fails when the anchor directory cannot be written (every commit that adds an
audit event appends to it), when its file cannot be read back or belongs to
another database, and when it is missing while the audit table holds events.
"""

from __future__ import annotations

import dataclasses
import os

from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from .anchor import anchor_path, load_anchor
from .models import AuditEvent


@dataclasses.dataclass
class AuditAnchor(HealthCheck):
    def run(self) -> None:
        path = anchor_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServiceUnavailable("audit anchor directory cannot be created") from exc
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise ServiceUnavailable("audit anchor is not writable")
        state = load_anchor()
        if state.problem:
            raise ServiceUnavailable(state.problem)
        if state.missing and AuditEvent.objects.exists():
            raise ServiceUnavailable("audit anchor is missing while the audit log holds events")
