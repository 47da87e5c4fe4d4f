"""Celery tasks for customer data: thin wrappers around the import service."""

from __future__ import annotations

from celery import shared_task

from accounts.models import User

from .services import import_file


@shared_task
def import_file_task(kind: str, path: str, file_name: str = "", user_id: int | None = None) -> dict:
    """Import a file the worker can read (e.g. a large upload saved to shared storage)."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return import_file(kind=kind, file=path, file_name=file_name or path, user=user).as_dict()
