"""The audit event as the API shows it: the same columns as the CSV export."""

from __future__ import annotations

from rest_framework import serializers

from core.api import ModelOutSerializer

from .exports import AUDIT_COLUMNS
from .models import AuditEvent


class AuditEventSerializer(ModelOutSerializer):
    actor = serializers.CharField(source="actor_username")
    object = serializers.CharField(read_only=True)  # noqa: A003 - the event's object, type:id

    class Meta:
        model = AuditEvent
        fields = list(AUDIT_COLUMNS)
        read_only_fields = fields
