"""Inbox section about the user's recent imports."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.permissions import allowed
from core.inbox import InboxItem, InboxSection

from .models import ImportRun

RECENT_DAYS = 30


def my_imports(*, user) -> list[ImportRun]:
    """The user's imports of the last weeks, finished or failed."""
    if not allowed(user, "use_imports"):
        return []
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return list(
        ImportRun.objects.filter(user=user, started_at__gte=since).order_by("-started_at")[:10]
    )


def _detail(run: ImportRun) -> str:
    if run.state in ("failed", "invalid"):
        return (run.error or "; ".join(run.errors[:3]))[:160]
    return f"{run.created} new, {run.updated} changed, {run.unchanged} unchanged"


def imports_sections(*, user) -> list[InboxSection]:
    items = [
        InboxItem(
            text=f"{run.kind} · {run.file_name} · {run.started_at:%Y-%m-%d %H:%M} UTC",
            url=reverse("customers:import_detail", args=[run.pk]),
            detail=_detail(run),
            tone="bad" if run.state in ("failed", "invalid") else "",
            badge=run.state or "finished",
        )
        for run in my_imports(user=user)
    ]
    return [InboxSection("imports", "Your imports", items, order=60)]
