"""Admin for the content library. Status changes and mappings go through the services
(API and pages), so here they are read-only: the admin cannot bypass MLR rules."""

from __future__ import annotations

from django.contrib import admin

from .models import ContentAsset, ContentMapping


@admin.register(ContentAsset)
class ContentAssetAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "audience", "intent", "mlr_status", "expires_at")
    list_filter = ("mlr_status", "audience", "intent")
    search_fields = ("code", "title", "mlr_reference")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ContentMapping)
class ContentMappingAdmin(admin.ModelAdmin):
    list_display = ("id", "asset", "segment", "state", "proposed_by", "decided_by")
    list_filter = ("state",)
    search_fields = ("asset__code", "segment__key")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
