"""Celery tasks for the audit trail: thin wrappers around the verifier.

``verify_audit_log`` runs on the beat schedule (config/settings.py); a broken
chain is an ERROR log line naming what was found, which the log pipeline alerts
on (docs/governance.md, "Operations").
"""

from __future__ import annotations

import logging

from celery import shared_task

from .chain import verify_audit_chain

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.verify_audit_log")
def verify_audit_log() -> dict:
    """Verify the audit chain and its anchor; logs an error naming what broke."""
    result = verify_audit_chain()
    if not result.intact:
        logger.error(
            "AUDIT LOG BROKEN at event %s: %s",
            result.first_broken_id,
            result.problem,
            extra={"alert": "audit_log_broken"},
        )
    elif result.anchor_lag:
        logger.warning("audit anchor lags the table by %s events", result.anchor_lag)
    return {
        "intact": result.intact,
        "count": result.count,
        "first_broken_id": result.first_broken_id,
    }
