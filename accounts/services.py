"""User writes: create or update a user with roles and territories (audited)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from accounts.permissions import require
from audit.services import record_event
from core.errors import ErrorDetail, ValidationFailed

from .models import Role, RoleAssignment, Territory, User


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(user.role_assignments.values_list("role", flat=True)),
        "territories": sorted(user.territories.values_list("code", flat=True)),
        "is_active": user.is_active,
    }


def user_upsert(
    *,
    username: str,
    full_name: str,
    roles: Iterable[str],
    territories: Iterable[str] = (),
    password: str | None,
    actor=None,
) -> User:
    """Create the user, or update name, roles, territories and password of an existing one.

    ``actor`` None means the system (management command run by an operator);
    otherwise the actor must be an admin. Unknown territory codes are created.
    Roles not listed are removed: the list is the user's complete set of roles.
    Every change (creation, roles, territories) is an audit event.
    """
    if actor is not None:
        require(actor, "manage_users")
    username = (username or "").strip()
    roles = sorted(set(roles))
    codes = sorted({c.strip() for c in territories if c and c.strip()})
    errors: list[ErrorDetail] = []
    if not username:
        errors.append(ErrorDetail("username", "a username is required"))
    bad = [r for r in roles if r not in Role.values]
    if bad:
        errors.append(
            ErrorDetail(
                "roles", f"unknown role '{bad[0]}' (expected one of {', '.join(Role.values)})"
            )
        )
    if not password:
        errors.append(ErrorDetail("password", "a non-empty password is required"))
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        created = user is None
        before = None if created else _user_snapshot(user)
        if created:
            user = User(username=username)
        user.full_name = (full_name or "").strip()
        # Django's password validators on every path that sets a password
        # (docs/governance.md, "Integrity and access controls").
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed("; ".join(exc.messages), path="password") from exc
        user.set_password(password)
        user.save()
        assign_roles_and_territories(user=user, roles=roles, territories=codes, actor=actor)
        after = _user_snapshot(user)
        if created:
            record_event(
                actor=actor,
                action="user.created",
                object_type="user",
                object_id=username,
                after=after,
            )
        else:
            record_event(
                actor=actor,
                action="user.updated",
                object_type="user",
                object_id=username,
                before=before,
                after=after,
                reason="password reset" if before == after else "",
            )
        if created or before["roles"] != after["roles"]:
            record_event(
                actor=actor,
                action="user.roles_changed",
                object_type="user",
                object_id=username,
                before={"roles": before["roles"] if before else []},
                after={"roles": after["roles"]},
            )
    return user


def assign_roles_and_territories(
    *,
    user: User,
    roles: Iterable[str],
    territories: Iterable[str] | None = None,
    actor=None,
    reason: str = "",
) -> None:
    """Make ``roles`` (and ``territories``, when given) the user's complete sets.

    Territory codes not seen before are created, each an audit event. Call it
    inside the caller's transaction; the caller audits the change of roles.
    """
    roles = list(roles)
    RoleAssignment.objects.filter(user=user).exclude(role__in=roles).delete()
    for role in roles:
        RoleAssignment.objects.get_or_create(user=user, role=role)
    if territories is not None:
        codes = list(territories)
        for code in codes:
            _, made = Territory.objects.get_or_create(code=code)
            if made:
                record_event(
                    actor=actor,
                    action="territory.created",
                    object_type="territory",
                    object_id=code,
                    after={"code": code},
                    reason=reason,
                )
        user.territories.set(Territory.objects.filter(code__in=codes))
    user.forget_roles()


def set_roles(*, user: User, roles: Iterable[str], actor=None) -> User:
    """Replace a user's roles (admin); audited as a role change."""
    if actor is not None:
        require(actor, "manage_users")
    roles = sorted(set(roles))
    bad = [r for r in roles if r not in Role.values]
    if bad:
        raise ValidationFailed(f"unknown role '{bad[0]}'", path="roles")
    with transaction.atomic():
        before = sorted(user.role_assignments.values_list("role", flat=True))
        assign_roles_and_territories(user=user, roles=roles, actor=actor)
        if before != roles:
            record_event(
                actor=actor,
                action="user.roles_changed",
                object_type="user",
                object_id=user.username,
                before={"roles": before},
                after={"roles": roles},
            )
    return user


def record_role_change(*, user: User, before: list[str], actor, via: str = "admin") -> None:
    """Audit a role change made outside ``user_upsert`` (the admin's inline)."""
    after = sorted(user.role_assignments.values_list("role", flat=True))
    if sorted(before) != after:
        record_event(
            actor=actor,
            action="user.roles_changed",
            object_type="user",
            object_id=user.username,
            before={"roles": sorted(before)},
            after={"roles": after},
            reason=f"changed in the {via}",
        )
