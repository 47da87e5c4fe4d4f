"""Demo users, one or more per role, with documented demo-only passwords.

The passwords follow ``demo-<username>-2026``; they exist so a reviewer can log
in to the demo and must never be used outside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth import base_user

from accounts.models import Role, User
from accounts.services import user_upsert


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    roles: tuple[str, ...]
    territories: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return demo_password(self.username)


def demo_password(username: str) -> str:
    """The documented demo-only password of a demo user."""
    return f"demo-{username}-2026"


# Two brand users so one can author a segment version and the other sign it;
# two compliance users so one can propose-review and the other decide.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("brand", "Blair Brandon", (Role.BRAND,)),
    DemoUser("brand2", "Bailey Brooks", (Role.BRAND,)),
    DemoUser("access", "Avery Ashford", (Role.ACCESS,)),
    DemoUser("medical", "Morgan Medina", (Role.MEDICAL,)),
    DemoUser("compliance", "Casey Collins", (Role.COMPLIANCE,)),
    DemoUser("compliance2", "Cameron Cole", (Role.COMPLIANCE,)),
    DemoUser("field", "Finley Fields", (Role.FIELD_LEAD,), ("NE-BOS", "NE-NYC")),
    DemoUser("admin", "Alex Adair", (Role.ADMIN,)),
)


def ensure_demo_users() -> list[User]:
    """Create (or reset) every demo user with its roles, territories and password (audited)."""
    return [
        user_upsert(
            username=demo.username,
            full_name=demo.full_name,
            roles=[str(r) for r in demo.roles],
            territories=demo.territories,
            password=demo.password,
        )
        for demo in DEMO_USERS
    ]


@contextmanager
def demo_signatures_remembered() -> Iterator[None]:
    """While seeding, check each demo user's password once, not once per signature.

    Seeding records some thirty e-signatures with the demo users' documented
    passwords; each check is a full password hash (about a second on a busy
    machine). Inside this block a (stored hash, password) pair that was checked
    once answers from memory. Only ``seed_demo`` uses it, in its own process.
    """
    original = base_user.check_password
    checked: dict[tuple[str, str], bool] = {}

    def check_once(password, encoded, setter=None, preferred="default"):
        key = (encoded, password)
        if key not in checked:
            checked[key] = original(password, encoded, setter, preferred)
        return checked[key]

    base_user.check_password = check_once
    try:
        yield
    finally:
        base_user.check_password = original
