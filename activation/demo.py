"""Demo publications for ``make demo`` (docs/activation.md, "The demo's measurement").

Publishes the demo call plan (``cardiozen-call-plan``; failing that, the first
active segment with approved content for a demo channel) to a file destination
under ACTIVATION_FILE_ROOT with a 30% holdout, through the real services (the
first sync and its CSV file are made eagerly). So the measurement has
something to show on first visit, two demo-only shortcuts follow, never used
outside this command:

* the publication's decisions are dated ``weeks`` weeks back;
* a modest effect is planted on the sent customers after entry: ``PLANTED_VISITS``
  more rep visits each over those weeks (0.25 per customer per week over 16
  weeks) and ``PLANTED_TRX`` more TRx per month of the content's products in
  every month with rx data after the entry month. The holdout is left as it
  was, so the measured lifts estimate exactly these effects.

Every write is set-based: a handful of statements whatever the segment's size.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from customers.models import Interaction, RxFact
from segmentation.models import Segment, VersionState

from .models import Destination, MemberState, Publication, PublicationMember, Sync
from .services import create_destination, create_publication, sync_publication
from .services.prescribing import content_products
from .services.syncs import approved_content

DEMO_SEGMENT = "cardiozen-call-plan"
DEMO_CHANNELS = ("rep_visit", "email")
DEMO_HOLDOUT = 30
DEMO_WEEKS = 16
PLANTED_VISITS_PER_WEEK = 0.25
PLANTED_TRX = 2


def _candidates():
    active = Segment.objects.filter(versions__state=VersionState.ACTIVE)
    preferred = list(active.filter(key=DEMO_SEGMENT))
    return preferred + list(active.exclude(key=DEMO_SEGMENT).order_by("key"))


def seed_activation_demo(*, weeks: int = DEMO_WEEKS) -> str:
    """Create the demo destination and publication once; a second run changes nothing."""
    if Destination.objects.filter(key__startswith="demo-").exists():
        return "activation demo: already seeded"
    admin = User.objects.filter(username="admin").first()
    brand = User.objects.filter(username="brand").first()
    if admin is None or brand is None:
        return "activation demo: no demo users (run seed_demo first)"
    for segment in _candidates():
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
                user=brand,
                segment=segment,
                destination_key=destination.key,
                holdout_percent=DEMO_HOLDOUT,
            )
            # The first sync (already made on commit when Celery runs eagerly; a no-op then).
            sync_publication(publication_id=publication.pk, trigger="demo")
            now = timezone.now()
            back = now - timedelta(weeks=weeks)
            with transaction.atomic():
                Publication.objects.filter(pk=publication.pk).update(created_at=back)
                PublicationMember.objects.filter(publication=publication).update(since=back)
                Sync.objects.filter(publication=publication).update(created_at=back)
                visits = plant_visits(publication=publication, start=back, end=now)
                trx = plant_trx(publication=publication, entered=back)
            return (
                f"activation demo: {segment.key} published to {destination.key} "
                f"(publication {publication.pk}, {DEMO_HOLDOUT}% holdout, dated {weeks} weeks "
                f"back; planted {visits} rep visits per sent customer and {trx} more TRx per "
                "month after entry)"
            )
    return "activation demo: no active segment with approved content for email or rep_visit"


def _sent_sql(publication: Publication) -> tuple[str, list]:
    return (
        f"SELECT customer_id FROM {PublicationMember._meta.db_table} "
        "WHERE publication_id = %s AND state = %s",
        [publication.pk, MemberState.SENT.value],
    )


def plant_visits(*, publication: Publication, start, end) -> int:
    """``PLANTED_VISITS_PER_WEEK`` more rep visits per sent customer between start and end:
    visit ``n`` falls in the ``n``-th of ``count`` equal stretches, on a day of it picked
    by the customer's id, so the visits spread over the weeks. One INSERT ... SELECT.
    Returns the visits per customer."""
    weeks = (end - start).total_seconds() / 604800
    count = round(PLANTED_VISITS_PER_WEEK * weeks)
    if count < 1:
        return 0
    step = (end - start) / count
    days = max(int(step.total_seconds() // 86400), 1)
    # (moment, slot): visit n on day `slot` of its stretch, at 10:00:00.5 past its start
    # (half a second past a whole second never matches a generated time).
    slots = [
        (
            connection.ops.adapt_datetimefield_value(
                start + step * n + timedelta(days=day, hours=10, microseconds=500_000)
            ),
            day,
        )
        for n in range(count)
        for day in range(days)
        if start + step * n + timedelta(days=day, hours=10) < end
    ]
    sent, params = _sent_sql(publication)
    times = " UNION ALL ".join(["SELECT %s AS at, %s AS slot"] * len(slots))
    table = Interaction._meta.db_table
    codes = approved_content(segment_id=publication.segment_id, channel="rep_visit")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table}
                  (customer_id, occurred_at, channel, kind, topic, asset, external_id, created_at)
                SELECT s.customer_id, t.at, %s, %s, %s, %s, NULL, %s
                FROM ({sent}) s JOIN ({times}) t ON t.slot = s.customer_id %% %s""",
            [
                "rep_visit",
                "visited",
                "efficacy",
                codes[0] if codes else "",
                connection.ops.adapt_datetimefield_value(end),
                *params,
                *[v for slot in slots for v in slot],
                days,
            ],
        )
    return count


def plant_trx(*, publication: Publication, entered) -> int:
    """``PLANTED_TRX`` more TRx per month of the content's products (all products: the
    first one) for every sent customer, in the months with rx data after the entry
    month; a missing fact is inserted. Two statements per product."""
    last = RxFact.objects.aggregate(last=Max("month"))["last"]
    if last is None:
        return 0
    first_after = (entered.date().replace(day=1) + timedelta(days=32)).replace(day=1)
    if first_after > last:
        return 0
    months = []
    month = first_after
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    products = content_products(
        segment_id=publication.segment_id, channel=publication.destination.channel
    ) or [RxFact.objects.order_by("product").values_list("product", flat=True).first()]
    months = [connection.ops.adapt_datefield_value(m) for m in months]
    sent, params = _sent_sql(publication)
    table = RxFact._meta.db_table
    month_list = ", ".join(["%s"] * len(months))
    with connection.cursor() as cursor:
        for product in products:
            cursor.execute(
                f"""UPDATE {table} SET trx = trx + %s
                    WHERE product = %s AND month IN ({month_list})
                      AND customer_id IN ({sent})""",
                [PLANTED_TRX, product, *months, *params],
            )
            values = " UNION ALL ".join(["SELECT %s AS month"] * len(months))
            cursor.execute(
                f"""INSERT INTO {table} (customer_id, month, product, nrx, trx, new_patient_starts)
                    SELECT s.customer_id, m.month, %s, 0, %s, 0
                    FROM ({sent}) s CROSS JOIN ({values}) m
                    WHERE NOT EXISTS (
                      SELECT 1 FROM {table} f WHERE f.customer_id = s.customer_id
                        AND f.month = m.month AND f.product = %s)""",
                [product, PLANTED_TRX, *params, *months, product],
            )
    return PLANTED_TRX
