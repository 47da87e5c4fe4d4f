"""Celery tasks for content: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="content.tasks.expire_assets", acks_late=True)
def expire_assets() -> list[str]:
    """Beat job (every 5 minutes): expire approved assets past their date, revoke mappings."""
    return services.expire_due_assets()
