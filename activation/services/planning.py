"""What a holdout could detect, before publishing (docs/activation.md, "Pages", the
Publish form): the minimum detectable effect for each holdout percentage.

From the segment's current members (for the email channel, those who did not opt
out) and a historical variance estimate over the same members:

* engagement: each member's interactions on the channel per week over the last
  ``HISTORY_WEEKS`` weeks;
* prescribing: each member's mean monthly TRx of the content's products (all
  products when no content names one) in the latest 3 months with rx data minus
  the 3 months before: the per-customer difference a difference in differences
  would compare, measured where nothing was published yet.

The holdout takes about ``percent``% of the members (the rule is a hash, so the
split is close to it, not exact).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from django.db import connection
from django.utils import timezone

from customers.models import Customer, Interaction, RxFact
from customers.vocabularies import Channel
from segmentation.models import (
    AccountMembershipSpell,
    Membership,
    SegmentVersion,
    Unit,
    VersionState,
)

from ..estimates import MIN_GROUP, minimum_detectable_effect, number
from .prescribing import as_date, content_products, index_of

HISTORY_WEEKS = 12
RX_WINDOW = 3
HOLDOUT_CHOICES = (5, 10, 20, 30, 40, 50)


def _members_sql(version: SegmentVersion, channel: str) -> tuple[str, list]:
    """The customers measured: the members, or an account segment's members' active
    affiliated customers (measurement counts those, docs/activation.md)."""
    if version.segment.unit == Unit.ACCOUNT:
        return (
            f"""SELECT c.id AS customer_id FROM {AccountMembershipSpell._meta.db_table} m
                JOIN {Customer._meta.db_table} c ON c.account_id = m.account_id
                WHERE m.version_id = %s AND m.exited_as_of IS NULL AND c.active = %s""",
            [version.pk, True],
        )
    opt_out, params = "", [version.pk]
    if channel == Channel.EMAIL:
        opt_out = "AND c.email_opt_out = %s"
        params.append(False)
    return (
        f"""SELECT m.customer_id FROM {Membership._meta.db_table} m
            JOIN {Customer._meta.db_table} c ON c.id = m.customer_id
            WHERE m.version_id = %s {opt_out}""",
        params,
    )


def _weekly_rates(members: str, params: list, channel: str, since) -> np.ndarray:
    sql = f"""
        WITH g AS ({members})
        SELECT g.customer_id, COUNT(i.id) FROM g LEFT JOIN {Interaction._meta.db_table} i
          ON i.customer_id = g.customer_id AND i.channel = %s AND i.occurred_at >= %s
        GROUP BY g.customer_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, channel, since])
        counts = [int(n or 0) for _, n in cursor.fetchall()]
    return np.array(counts, dtype=float) / HISTORY_WEEKS


def _trx_differences(members: str, params: list, products: list[str], size: int) -> np.ndarray:
    """Per member: mean TRx of the latest RX_WINDOW months minus the RX_WINDOW before."""
    table = RxFact._meta.db_table
    product_sql = ""
    if products:
        product_sql = f"AND r.product IN ({', '.join(['%s'] * len(products))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH g AS ({members}) SELECT MAX(r.month) FROM {table} r "
            f"JOIN g ON g.customer_id = r.customer_id WHERE 1 = 1 {product_sql}",
            [*params, *products],
        )
        (last,) = cursor.fetchone()
        if last is None:
            return np.zeros(0)
        latest = index_of(as_date(last))
        start = latest - 2 * RX_WINDOW + 1
        since = connection.ops.adapt_datefield_value(date(start // 12, start % 12 + 1, 1))
        recent = connection.ops.adapt_datefield_value(
            date((latest - RX_WINDOW + 1) // 12, (latest - RX_WINDOW + 1) % 12 + 1, 1)
        )
        cursor.execute(
            f"""WITH g AS ({members})
                SELECT r.customer_id,
                  SUM(CASE WHEN r.month >= %s THEN r.trx ELSE 0 END),
                  SUM(CASE WHEN r.month < %s THEN r.trx ELSE 0 END)
                FROM {table} r JOIN g ON g.customer_id = r.customer_id
                WHERE r.month >= %s {product_sql}
                GROUP BY r.customer_id""",
            [*params, recent, recent, since, *products],
        )
        rows = cursor.fetchall()
    differences = np.zeros(size)  # members without facts wrote nothing in either window
    for i, (_, after, before) in enumerate(rows):
        differences[i] = (float(after or 0) - float(before or 0)) / RX_WINDOW
    return differences


def holdout_power(*, segment, channel: str, holdout_percent: int | None = None, now=None) -> dict:
    """The minimum detectable effect on the channel's weekly interactions and on TRx for
    each holdout percentage (and ``holdout_percent``), from today's members."""
    now = now or timezone.now()
    version = SegmentVersion.objects.filter(segment=segment, state=VersionState.ACTIVE).first()
    answer = {"members": 0, "channel": channel, "products": [], "rows": [], "chosen": None}
    if version is None:
        answer["message"] = "the segment has no active version, so no members to hold out"
        return answer
    members, params = _members_sql(version, channel)
    since = connection.ops.adapt_datetimefield_value(now - timedelta(weeks=HISTORY_WEEKS))
    rates = _weekly_rates(members, params, channel, since)
    size = len(rates)
    products = content_products(segment_id=segment.pk, channel=channel)
    differences = _trx_differences(members, params, products, size)
    sd_rate = float(rates.std(ddof=1)) if size > 1 else 0.0
    sd_trx = float(differences.std(ddof=1)) if len(differences) > 1 else 0.0
    choices = sorted(set(HOLDOUT_CHOICES) | ({holdout_percent} if holdout_percent else set()))
    rows = []
    for percent in choices:
        held = round(size * percent / 100)
        sent = size - held
        rows.append(
            {
                "percent": percent,
                "sent": sent,
                "holdout": held,
                "enough": min(sent, held) >= MIN_GROUP,
                "mde_channel": minimum_detectable_effect(sent=sent, holdout=held, sd=sd_rate),
                "mde_trx": minimum_detectable_effect(sent=sent, holdout=held, sd=sd_trx),
                "chosen": percent == holdout_percent,
            }
        )
    answer.update(
        members=size,
        products=products,
        rows=rows,
        sd_channel=sd_rate,
        sd_trx=sd_trx,
        chosen=next((r for r in rows if r["chosen"]), None),
        message="",
    )
    chosen = answer["chosen"]
    if chosen is not None:
        answer["message"] = _sentence(chosen, size, channel, products)
    return answer


def _sentence(row: dict, size: int, channel: str, products: list[str]) -> str:
    head = (
        f"With a {row['percent']}% holdout of today's {size:,} members (about "
        f"{row['sent']:,} sent and {row['holdout']:,} held out)"
    )
    if not row["enough"]:
        return f"{head}, a side has fewer than {MIN_GROUP} customers: no lift would be estimated"
    named = " and ".join(products) or "all products"
    parts = []
    if row["mde_channel"] is not None:
        parts.append(f"{number(row['mde_channel'])} {channel} interactions per customer per week")
    if row["mde_trx"] is not None:
        parts.append(f"{number(row['mde_trx'])} {named} TRx per customer per month")
    if not parts:
        return f"{head}, there is no variation yet to size the smallest detectable lift"
    return (
        f"{head}, the smallest lift the measurement could detect (80% power, 5% two-sided) "
        f"is {' or '.join(parts)}"
    )
