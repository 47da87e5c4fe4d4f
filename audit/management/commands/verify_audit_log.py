"""``python manage.py verify_audit_log``: prove the audit chain unbroken, or name its break.

Checks the keyed chain event by event and then against the anchor kept outside
the database (docs/governance.md, "Audit trail").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_audit_chain


def describe_failure(result) -> str:
    """The one line naming what verification found."""
    if result.first_broken_id is not None:
        return f"audit log broken at event {result.first_broken_id}: {result.problem}"
    return f"audit log broken: {result.problem}"


class Command(BaseCommand):
    help = (
        "Verify the audit log's keyed hash chain and its anchor. Prints 'audit log intact: "
        "N events' (exit 0), or the id of the first event that was altered or follows a "
        "deleted one, or that the newest events or the whole log are missing against the "
        "anchor (exit 1). An anchor that lags the table is reported on stderr."
    )

    def handle(self, *args, **options):
        result = verify_audit_chain()
        if result.intact:
            self.stdout.write(f"audit log intact: {result.count} events")
            if result.anchor_lag:
                anchored = result.anchor.count if result.anchor else 0
                self.stderr.write(
                    f"warning: the anchor lags the table by {result.anchor_lag} events "
                    f"(anchored: {anchored} of {result.count})"
                )
            return
        message = describe_failure(result)
        # On stdout as well, for scripts reading it; CommandError sets exit status 1.
        self.stdout.write(message)
        raise CommandError(message, returncode=1)
