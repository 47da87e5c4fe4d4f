"""The audit anchor's health check for ``/health/`` (docs/governance.md, "Operations").

Fails when the anchor directory cannot be written (every commit that adds an
audit event appends to it) or its file cannot be read back.
"""

from __future__ import annotations

import dataclasses
import os

from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from .anchor import anchor_path, read_anchor


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
        try:
            read_anchor()
        except OSError as exc:
            raise ServiceUnavailable("audit anchor cannot be read") from exc
