"""The generic record of a long job (discovery, recompute, import): docs/api.md, "Tasks".

A job is created by the request that starts the work; the Celery task (or the
eager call) moves it through ``pending -> running -> succeeded | failed`` and
reports progress between 0 and 1. ``GET /api/v1/tasks/{id}/`` reads it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=64)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.PENDING)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                name="job_progress_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values), name="job_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.state})"

    def as_dict(self) -> dict:
        """The task resource of docs/api.md: state, progress, and result or error when done."""
        out: dict = {
            "id": str(self.id),
            "kind": self.kind,
            "state": self.state,
            "progress": self.progress,
        }
        if self.state == JobState.SUCCEEDED:
            out["result"] = self.result
        if self.state == JobState.FAILED:
            out["error"] = self.error
        return out
