"""Import kinds owned by apps above customers (docs/imports.md, "Kinds").

Customers never imports a higher floor (docs/architecture.md). An app that owns
data importable from a file (``content``'s ``assets``) registers an ``Importer``
here when Django starts (its ``AppConfig.ready``); the import service, pages and
API then offer that kind like the built-in ones, with the same check, confirm,
history and audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class Counts:
    """What a registered importer did (or, on a check, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customer_ids: list[int] = field(default_factory=list)


# run(header=, rows=, user=, now=) -> Counts. Validates every row first and raises
# ValidationFailed listing ``row N: column`` problems; writes inside the caller's
# transaction (which a check rolls back).
ImporterRun = Callable[..., Counts]


@dataclass(frozen=True)
class Importer:
    kind: str
    label: str
    run: ImporterRun
    action: str = "import_data"  # the permission (accounts.permissions) importing needs


_REGISTRY: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    """Offer ``importer.kind`` to the import service (called from an app's ``ready``)."""
    _REGISTRY[importer.kind] = importer


def registered(kind: str) -> Importer | None:
    return _REGISTRY.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_REGISTRY)


def run_registered(
    importer: Importer, *, header: list[str], rows: Iterator, user, now: dt.datetime
) -> Counts:
    return importer.run(header=header, rows=rows, user=user, now=now)
