"""Celery tasks for the audit trail: thin wrappers around the verifier."""

from __future__ import annotations

import logging

from celery import shared_task

from .chain import verify_audit_chain

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.verify_audit_log")
def verify_audit_log() -> dict:
    """Verify the audit chain (schedulable); logs an error naming the first broken event."""
    result = verify_audit_chain()
    if not result.intact:
        logger.error("audit log broken at event %s: %s", result.first_broken_id, result.problem)
    return {
        "intact": result.intact,
        "count": result.count,
        "first_broken_id": result.first_broken_id,
    }
