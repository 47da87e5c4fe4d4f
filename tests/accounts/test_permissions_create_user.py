"""create_user and user_upsert: roles, territories, password from stdin, audited role changes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Territory, User
from accounts.services import user_upsert
from audit.models import AuditEvent
from core.errors import PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args, password="s3cret-Passw0rd\n"):
    out = io.StringIO()
    call_command("create_user", *args, stdin=io.StringIO(password), stdout=out)
    return out.getvalue()


def test_create_user_with_roles_and_territories():
    run(
        "--username",
        "jane",
        "--full-name",
        "Jane Doe",
        "--role",
        "field_lead",
        "--territory",
        "NE-01",
    )
    user = User.objects.get(username="jane")
    assert user.full_name == "Jane Doe"
    assert user.role_names == frozenset({"field_lead"})
    assert list(user.territories.values_list("code", flat=True)) == ["NE-01"]
    assert user.check_password("s3cret-Passw0rd")


def test_unknown_territory_is_created():
    run("--username", "jane", "--full-name", "Jane", "--role", "field_lead", "--territory", "ZZ-9")
    assert Territory.objects.filter(code="ZZ-9").exists()


def test_rerun_updates_name_roles_territories_and_password():
    run("--username", "jane", "--full-name", "Jane", "--role", "brand", "--territory", "A")
    run(
        "--username",
        "jane",
        "--full-name",
        "Jane Roe",
        "--role",
        "access",
        "--role",
        "medical",
        "--territory",
        "B",
        password="another-Passw0rd\n",
    )
    user = User.objects.get(username="jane")
    assert user.full_name == "Jane Roe"
    assert user.role_names == frozenset({"access", "medical"})
    assert list(user.territories.values_list("code", flat=True)) == ["B"]
    assert user.check_password("another-Passw0rd")


def test_empty_password_is_refused():
    with pytest.raises(CommandError, match="empty"):
        run("--username", "jane", "--full-name", "Jane", "--role", "brand", password="\n")
    assert not User.objects.filter(username="jane").exists()


def test_unknown_role_is_refused():
    with pytest.raises(CommandError):
        run("--username", "jane", "--full-name", "Jane", "--role", "superhero")
    assert not User.objects.filter(username="jane").exists()


def test_role_changes_are_audited():
    run("--username", "jane", "--full-name", "Jane", "--role", "brand")
    run("--username", "jane", "--full-name", "Jane", "--role", "compliance")
    events = AuditEvent.objects.filter(action="user.roles_changed", object_id="jane")
    assert [(e.before["roles"], e.after["roles"]) for e in events] == [
        ([], ["brand"]),
        (["brand"], ["compliance"]),
    ]


def test_only_admin_may_upsert_users_as_an_actor(make_user):
    with pytest.raises(PermissionRefused):
        user_upsert(
            username="x",
            full_name="X",
            roles=["brand"],
            password="pw-123456",
            actor=make_user("compliance"),
        )
    user = user_upsert(
        username="x",
        full_name="X",
        roles=["brand"],
        password="pw-123456",
        actor=make_user("admin"),
    )
    assert user.role_names == frozenset({"brand"})


def test_upsert_refuses_an_empty_password():
    with pytest.raises(ValidationFailed):
        user_upsert(username="x", full_name="X", roles=["brand"], password="")
