"""Inbox sections: each app announces what waits for a user, the inbox page lists them.

An app registers a provider in its ``AppConfig.ready()``; a provider takes the
user and returns the sections it has for them (an empty list when the user's
roles have nothing there). The inbox page never needs to know which apps exist,
so a new floor adds its work to every inbox by registering one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InboxItem:
    """One line: what happened or waits, where it is handled, and an optional detail."""

    text: str
    url: str
    detail: str = ""
    tone: str = ""  # "" | "bad" | "good" | "warn"
    badge: str = ""


@dataclass(frozen=True)
class InboxSection:
    key: str
    title: str
    items: list[InboxItem] = field(default_factory=list)
    # What the user does next, in a few words ("Open it to activate").
    hint: str = ""
    # Lower numbers first: work to do before news.
    order: int = 50


Provider = Callable[..., list[InboxSection]]
_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or replace, on a reloaded app) the provider called ``name``."""
    _PROVIDERS[name] = provider


def sections_for(*, user) -> list[InboxSection]:
    """Every non-empty section for ``user``, work to do first."""
    sections = [s for provider in _PROVIDERS.values() for s in provider(user=user) if s.items]
    return sorted(sections, key=lambda s: (s.order, s.key))
