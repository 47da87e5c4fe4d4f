"""Demo users, one or more per role, with documented demo-only passwords.

The passwords follow ``demo-<username>-2026``; they exist so a reviewer can log
in to the demo and must never be used outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

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
