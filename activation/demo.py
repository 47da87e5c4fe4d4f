"""Demo publications for ``make demo`` (docs/activation.md, "Measurement").

Publishes the first active demo segment that has approved content for a
channel to a file destination under ACTIVATION_FILE_ROOT, with a 20% holdout,
through the real services (the first sync and its CSV file are made eagerly).
So the measurement chart has weeks to show on demo data, the publication's
decisions are then dated ``weeks`` weeks back — a demo-only shortcut, never
used outside this command.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from segmentation.models import Segment, VersionState

from .models import Destination, Publication, PublicationMember, Sync
from .services import create_destination, create_publication, sync_publication
from .services.syncs import approved_content

DEMO_CHANNELS = ("email", "rep_visit")


def seed_activation_demo(*, weeks: int = 8) -> str:
    """Create the demo destination and publication once; a second run changes nothing."""
    if Destination.objects.filter(key__startswith="demo-").exists():
        return "activation demo: already seeded"
    admin = User.objects.filter(username="admin").first()
    brand = User.objects.filter(username="brand").first()
    if admin is None or brand is None:
        return "activation demo: no demo users (run seed_demo first)"
    for segment in Segment.objects.filter(versions__state=VersionState.ACTIVE).order_by("key"):
        for channel in DEMO_CHANNELS:
            if not approved_content(segment_id=segment.pk, channel=channel):
                continue
            destination = create_destination(
                user=admin,
                data={
                    "key": f"demo-{channel.replace('_', '-')}",
                    "name": f"Demo {channel.replace('_', ' ')} drop",
                    "channel": channel,
                    "kind": "file",
                    "directory": f"demo/{channel}",
                },
            )
            publication = create_publication(
                user=brand, segment=segment, destination_key=destination.key, holdout_percent=20
            )
            # The first sync (already made on commit when Celery runs eagerly; a no-op then).
            sync_publication(publication_id=publication.pk, trigger="demo")
            back = timezone.now() - timedelta(weeks=weeks)
            with transaction.atomic():
                Publication.objects.filter(pk=publication.pk).update(created_at=back)
                PublicationMember.objects.filter(publication=publication).update(since=back)
                Sync.objects.filter(publication=publication).update(created_at=back)
            return (
                f"activation demo: {segment.key} published to {destination.key} "
                f"(publication {publication.pk}, 20% holdout, dated {weeks} weeks back)"
            )
    return "activation demo: no active segment with approved content for email or rep_visit"
