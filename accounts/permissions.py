"""Who may do what: one check per action, called by services, API and pages alike.

``ACTION_ROLES`` is the single table of which roles may perform which action
(docs/governance.md, docs/api.md). Services call ``require(user, action)``; DRF
permission classes and page mixins call ``allowed`` for the same answer.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from core.errors import PermissionRefused

from .models import Role

B, A, M, C, F, AD = (
    Role.BRAND,
    Role.ACCESS,
    Role.MEDICAL,
    Role.COMPLIANCE,
    Role.FIELD_LEAD,
    Role.ADMIN,
)
SIGNING_TEAMS = (B, A, M)

ACTION_ROLES: dict[str, frozenset[str]] = {
    # data
    "import_data": frozenset({AD, B}),
    # the /imports/ pages: brand and admin import data; compliance imports assets there
    "use_imports": frozenset({AD, B, C}),
    "view_customers": frozenset({AD, B, A, M, C}),
    "record_interactions": frozenset({AD, B}),
    # segments
    "view_segments": frozenset({AD, B, A, M, C}),
    "edit_segment": frozenset({AD, B}),
    "preview_segment": frozenset({AD, B, A, M, C}),
    "recompute_segment": frozenset({AD, B}),
    "submit_segment": frozenset({AD, B}),
    "sign_segment": frozenset({B, A, M}),
    "activate_segment": frozenset({AD, B}),
    "retire_segment": frozenset({AD, B}),
    "view_members": frozenset({AD, B, A, M, C}),
    # discovery (docs/discovery.md): run it and save suggestions; differentiators
    # are seen by whoever may view the segment
    "run_discovery": frozenset({AD, B}),
    "view_differentiators": frozenset({AD, B, A, M, C}),
    # content and mappings
    "view_assets": frozenset({AD, B, C}),
    "create_asset": frozenset({AD, C}),
    "edit_asset": frozenset({AD, C}),
    # draft <-> in_review is housekeeping by whoever maintains the library;
    # approval and withdrawal are compliance's alone (docs/governance.md).
    "review_asset": frozenset({AD, C}),
    "set_asset_status": frozenset({C}),
    "view_mappings": frozenset({AD, B, C}),
    "propose_mapping": frozenset({B}),
    "decide_mapping": frozenset({C}),
    # audit, users
    "view_audit": frozenset({AD, C}),
    "manage_users": frozenset({AD}),
    # pages and field views
    "view_dashboard": frozenset({AD, B, A, M}),
    # the inbox: what waits for each role (compliance lands on it)
    "view_inbox": frozenset({AD, B, A, M, C}),
    "view_reviews": frozenset({AD, B, A, M}),
    "view_territories": frozenset({AD, F}),
    # the /mappings/ compliance queue (brand proposes elsewhere; docs/api.md pages)
    "view_mapping_queue": frozenset({AD, C}),
    # activation (docs/activation.md): admins manage destinations, brand publishes;
    # compliance and admin may stop any publication; field leads see none of it.
    "view_destinations": frozenset({AD, B, C}),
    "manage_destinations": frozenset({AD}),
    "view_publications": frozenset({AD, B, A, M, C}),
    "publish_segment": frozenset({B}),
    "sync_publication": frozenset({B}),
    "pause_publication": frozenset({AD, B, C}),
    "resume_publication": frozenset({B}),
    "view_deliveries": frozenset({AD, B, C}),
}


def allowed(user, action: str) -> bool:
    """True when the user holds a role that may perform ``action``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.has_role(*ACTION_ROLES[action])


def require(user, action: str) -> None:
    """Raise PermissionRefused (403) unless the user may perform ``action``."""
    if not allowed(user, action):
        roles = ", ".join(sorted(ACTION_ROLES[action]))
        raise PermissionRefused(
            f"'{action}' needs one of the roles: {roles}", code="forbidden", path=""
        )


def action_permission(action: str):
    """A DRF permission class allowing a request when the user may perform ``action``.

    Usage: ``permission_classes = [action_permission("view_audit")]``. A view
    with different actions per method can set ``required_actions = {"GET": ...,
    "POST": ...}`` and use ``ActionPermission`` instead.
    """

    class _ActionPermission(BasePermission):
        message = f"'{action}' needs one of the roles: {', '.join(sorted(ACTION_ROLES[action]))}"

        def has_permission(self, request, view) -> bool:
            return allowed(request.user, action)

    _ActionPermission.__name__ = f"May_{action}"
    return _ActionPermission


class ActionPermission(BasePermission):
    """DRF permission reading ``view.required_actions`` (HTTP method -> action name).

    Methods missing from the mapping are refused, so adding a handler without
    naming its action cannot open a hole.
    """

    def has_permission(self, request, view) -> bool:
        actions = getattr(view, "required_actions", {})
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        action = actions.get(method)
        if action is None:
            return False
        self.message = f"'{action}' needs one of the roles: " + ", ".join(
            sorted(ACTION_ROLES[action])
        )
        return allowed(request.user, action)

    def has_object_permission(self, request, view, obj) -> bool:
        return True
