"""The audit trail: append-only, hash-chained events (docs/governance.md)."""

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

    ``hash`` is an HMAC (a SHA-256 for events before the key, ``chain_version``
    1) over the canonical JSON of this event's content and ``prev_hash``, the
    hash of the event before it, so editing or deleting any row breaks the
    chain from that row on (audit.chain).
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
    # 1: unkeyed SHA-256 (events before the key); 2: HMAC with AUDIT_HMAC_KEY (audit.chain).
    chain_version = models.PositiveSmallIntegerField(default=1)
    # The event's position in the chain (1-based); recorded for keyed events.
    seq = models.BigIntegerField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        # The table kept its name when the model moved here from governance
        # (migration audit 0001), so no event was copied or lost.
        db_table = "governance_auditevent"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["action"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object}"

    def save(self, *args, **kwargs):
        # Only the first save (the insert record_event makes) is allowed.
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be updated")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    @property
    def object(self) -> str:
        """The object as ``type:id``, as the ``?object=`` filter takes it (docs/governance.md)."""
        return f"{self.object_type}:{self.object_id}"


class AuditDatabase(models.Model):
    """This database's identity for the audit anchor (``audit.anchor``).

    A random identifier made once per database (by migration, or at the first
    anchor if the row is missing), so the anchor file belongs to the database
    itself, not to the host name or port it was reached through.
    """

    database_id = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.database_id
