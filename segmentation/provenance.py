"""Where a draft came from: the provenance a version carries (docs/discovery.md).

Segmentation stores provenance but does not know what produces it. An app on
a higher floor (discovery) registers a resolver at start-up; the segment API
hands it the request's ``provenance`` object and the user, and stores the
plain dict it returns on the new version. Without a resolver, provenance is
refused. This keeps the floors: segmentation never imports discovery
(docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import ValidationFailed

Resolver = Callable[..., dict[str, Any]]
_resolvers: list[Resolver] = []


def register_provenance_resolver(resolver: Resolver) -> None:
    """Register ``resolver(*, user, provenance, entry_rule) -> dict`` (ValidationFailed when bad).

    ``entry_rule`` is the rule being saved, so the resolver can tell whether
    the suggestion was edited before its first save.
    """
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def resolve_provenance(*, user, provenance: Any, entry_rule: Any = None) -> dict[str, Any] | None:
    """The stored form of a request's ``provenance``; None when none was given."""
    if provenance is None:
        return None
    if not _resolvers:
        raise ValidationFailed("provenance is not accepted here", path="provenance")
    return _resolvers[-1](user=user, provenance=provenance, entry_rule=entry_rule)


def edited(provenance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The provenance of a version whose definition was edited after it was saved."""
    if not provenance:
        return provenance
    return {**provenance, "edited": True}
