"""The audit trail: append-only, hash-chained events."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditLogIsAppendOnly(Exception):
    """Raised by any attempt to change or remove an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet):
    """Refuses bulk update and delete: the audit trail is append-only."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be updated")

    def delete(self):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("audit events cannot be updated")


class AuditEvent(models.Model):
    """One change of state. Never updated or deleted (a trigger refuses it on PostgreSQL).

    ``hash`` is SHA-256 over the canonical JSON of this event's content and
    ``prev_hash``, the hash of the event before it, so editing or deleting any
    row breaks the chain from that row on.
    """

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["action"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        # Only the first save (the insert record_event makes) is allowed.
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")


class Team(models.TextChoices):
    BRAND = "brand"
    ACCESS = "access"
    MEDICAL = "medical"


class Decision(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"


class Signature(models.Model):
    """An electronic signature on one segment version (21 CFR Part 11 §11.50).

    Signer name, username, time, meaning and the version's content hash are
    copied onto the row so the record stands on its own. ``voided_at`` is set
    when a rejection sends the version back to draft: the row stays as a
    record but no longer counts toward approval (signatures never carry over).
    """

    version = models.ForeignKey(
        "segmentation.SegmentVersion", on_delete=models.PROTECT, related_name="signatures"
    )
    team = models.CharField(max_length=16, choices=Team.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    meaning = models.CharField(max_length=200)
    comment = models.TextField(blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signer_username = models.CharField(max_length=150)
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.signer_username} {self.decision} for {self.team} on {self.version_id}"
