"""``prepare_demo``: everything ``make demo`` does before serving, in one process.

Migrate; seed the demo data set when the database is empty (its last step
recomputes the active segments now), otherwise recompute the active segments;
then the demo publication (``seed_activation_demo``, once). One process instead
of four saves loading the app four times. Each step's time is printed.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.seed import database_has_data


class Command(BaseCommand):
    help = "Migrate, seed once (else recompute active segments), publish the demo segment."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()

        def step(label: str, name: str, **kwargs) -> None:
            began = time.monotonic()
            call_command(name, stdout=self.stdout, stderr=self.stderr, **kwargs)
            self.stdout.write(f"{label}: {time.monotonic() - began:.1f}s")

        step("migrate", "migrate", interactive=False, verbosity=0)
        if database_has_data():
            step("recompute", "recompute_segments", active_only=True)
        else:
            step("seed", "seed_demo", if_empty=True)
        step("demo publication", "seed_activation_demo")
        self.stdout.write(self.style.SUCCESS(f"demo ready in {time.monotonic() - started:.1f}s"))
