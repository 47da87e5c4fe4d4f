"""``python manage.py seed_activation_demo``: a demo publication (docs/activation.md)."""

from django.core.management.base import BaseCommand

from activation.demo import DEMO_WEEKS, seed_activation_demo


class Command(BaseCommand):
    help = "Publish one demo segment to a file destination with a holdout (once)."

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=DEMO_WEEKS, help="date it back N weeks")

    def handle(self, *args, weeks: int, **options):
        self.stdout.write(seed_activation_demo(weeks=weeks))
