"""Read-only admin for segments: every change goes through the services (and the audit trail)."""

from __future__ import annotations

from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin
from core.errors import DomainError

from . import services
from .models import Membership, MembershipChange, RecomputeRun, Segment, SegmentVersion


class VersionInline(admin.TabularInline):
    model = SegmentVersion
    fk_name = "segment"
    fields = ("number", "state", "name", "purpose", "member_count", "author", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ("key", "created_at", "created_by")
    search_fields = ("key",)
    inlines = [VersionInline]


@admin.register(SegmentVersion)
class SegmentVersionAdmin(ReadOnlyAdmin):
    list_display = ("segment", "number", "state", "name", "purpose", "member_count")
    list_filter = ("state", "purpose")
    search_fields = ("segment__key", "name")
    actions = ["recompute"]

    @admin.action(description="Recompute membership now")
    def recompute(self, request, queryset) -> None:
        for version in queryset.select_related("segment"):
            try:
                result = services.recompute_version(version=version, user=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            self.message_user(
                request,
                f"{result.segment} v{result.version}: +{result.entered} -{result.exited}, "
                f"{result.member_count} members",
            )


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = ("version", "as_of", "trigger", "entered", "exited", "member_count")
    list_filter = ("trigger",)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("version", "customer", "entered_at")
    raw_id_fields = ("version", "customer")


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdmin):
    list_display = ("version", "customer", "direction", "as_of", "recorded_at")
    list_filter = ("direction",)
    raw_id_fields = ("version", "customer", "run")
