"""``python manage.py verify_audit_log``: prove the audit chain unbroken, or name its break."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_audit_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain. Prints 'audit log intact: N events' (exit 0) "
        "or the id of the first event that was altered or follows a deleted one (exit 1)."
    )

    def handle(self, *args, **options):
        result = verify_audit_chain()
        if result.intact:
            self.stdout.write(f"audit log intact: {result.count} events")
            return
        message = f"audit log broken at event {result.first_broken_id}: {result.problem}"
        # On stdout as well, for scripts reading it; CommandError sets exit status 1.
        self.stdout.write(message)
        raise CommandError(message, returncode=1)
