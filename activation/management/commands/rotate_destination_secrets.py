"""``python manage.py rotate_destination_secrets``: re-encrypt webhook secrets with the newest
key of ``DESTINATION_SECRET_KEY`` (docs/activation.md, "Secrets at rest")."""

from django.core.management.base import BaseCommand

from activation.services import reencrypt_destination_secrets


class Command(BaseCommand):
    help = (
        "Encrypt every destination secret again with the first key of DESTINATION_SECRET_KEY; "
        "afterwards the older keys can be removed."
    )

    def handle(self, *args, **options):
        count = reencrypt_destination_secrets()
        self.stdout.write(f"{count} destination secret(s) encrypted with the newest key.")
