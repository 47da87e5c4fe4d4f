"""Seed a realistic synthetic data set and the demo users.

``seed_demo [--customers N] [--seed S] [--anchor YYYY-MM-DD] [--if-empty]``

Same ``--customers``, ``--seed`` and ``--anchor`` give the same data. The
anchor (default: today, UTC) is where the two years of interactions end; pin
it to reproduce a data set on another day. Only an empty database is seeded:
with ``--if-empty`` a database that already holds customers or accounts is
left alone (exit 0), without it that is an error.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from demo.history import HISTORY_DAYS
from demo.seed import database_has_data, seed_demo


def _anchor(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--anchor must be a date YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = "Seed synthetic accounts, HCPs, interactions, rx facts and demo users of every role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=5000, help="HCPs (default 5000)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--anchor",
            help="day (YYYY-MM-DD) the interaction history ends; default today (UTC)",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=HISTORY_DAYS,
            dest="history_days",
            help=f"days of daily recomputes of active segments (default {HISTORY_DAYS}; 0: none)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            dest="if_empty",
            help="do nothing (and succeed) when the database already holds data",
        )

    def handle(
        self, *args, customers: int, seed: int, anchor, if_empty: bool, history_days: int, **options
    ):
        if customers < 0:
            raise CommandError("--customers must be 0 or more")
        if seed < 0:
            raise CommandError("--seed must be 0 or more")
        anchor_day = _anchor(anchor) if anchor else None
        if if_empty and database_has_data():
            self.stdout.write("demo data already present: database left as it is")
            return
        try:
            counts = seed_demo(
                customers=customers,
                seed=seed,
                anchor=anchor_day,
                report=lambda line: self.stdout.write(line),
                history_days=max(history_days, 0),
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                "seeded: " + ", ".join(f"{count:,} {name}" for name, count in counts.items())
            )
        )
