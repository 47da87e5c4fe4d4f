"""Admin: the audit trail and signatures are read-only records."""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEvent, Signature


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete: these are records, changed only by services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "actor_username", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_username", "reason")
    date_hierarchy = "occurred_at"


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("version", "team", "decision", "signer_username", "signed_at", "voided_at")
    list_filter = ("team", "decision")
    search_fields = ("signer_username", "version__segment__key")
