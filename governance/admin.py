"""Admin: signatures are read-only records."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Signature


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("version", "team", "decision", "signer_username", "signed_at", "voided_at")
    list_filter = ("team", "decision")
    search_fields = ("signer_username", "version__segment__key")
