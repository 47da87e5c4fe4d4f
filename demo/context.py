"""What the seed steps share; apart so the steps and the runner don't import each other."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .generate import AccountIndex, DemoPlan
from .writer import TableWriter


@dataclass
class SeedContext:
    """What steps share: the plan, the table writer, a progress printer and the counts."""

    plan: DemoPlan
    writer: TableWriter
    report: Callable[[str], None]
    counts: dict[str, int] = field(default_factory=dict)
    accounts: AccountIndex | None = None
    started: float = field(default_factory=time.monotonic)

    def add(self, name: str, rows: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + rows

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
