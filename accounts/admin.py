"""Admin pages for users (roles inline) and territories. Role changes are audited."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from audit.services import record_event

from .models import OidcIdentity, RoleAssignment, Territory, User
from .services import record_role_change


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    fields = ("role", "granted_at")
    readonly_fields = ("granted_at",)


class OidcIdentityInline(admin.StackedInline):
    """The user's identity at the provider (read-only: single sign-on sets it, and roles of
    an SSO user are replaced from the provider's claims at every sign-in)."""

    model = OidcIdentity
    can_delete = False
    extra = 0
    max_num = 0
    fields = ("issuer", "subject", "created_at", "last_sign_in_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [OidcIdentityInline, RoleAssignmentInline]
    list_display = ("username", "full_name", "email", "roles", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "role_assignments__role")
    search_fields = ("username", "full_name", "email")
    filter_horizontal = ("territories", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("full_name", "first_name", "last_name", "email")}),
        ("Territories", {"fields": ("territories",)}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("username", "full_name", "password1", "password2")},
        ),
    )

    @admin.display(description="roles")
    def roles(self, obj: User) -> str:
        return ", ".join(sorted(obj.role_assignments.values_list("role", flat=True)))

    def save_related(self, request, form, formsets, change):
        user = form.instance
        before = list(user.role_assignments.values_list("role", flat=True)) if change else []
        before_territories = sorted(user.territories.values_list("code", flat=True))
        super().save_related(request, form, formsets, change)
        record_role_change(user=user, before=before, actor=request.user, via="admin")
        after_territories = sorted(user.territories.values_list("code", flat=True))
        if after_territories != before_territories:
            record_event(
                actor=request.user,
                action="user.territories_changed",
                object_type="user",
                object_id=user.username,
                before={"territories": before_territories},
                after={"territories": after_territories},
            )
        user.forget_roles()


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "created_at")
    search_fields = ("code", "name")
