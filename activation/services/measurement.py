"""Measurement: sent versus holdout engagement after entry, and the lift with a 95% interval.

See docs/activation.md, "Measurement". Two SQL aggregates do the counting:
per customer (interactions on the channel and on all channels since the
customer entered, and the weeks observed) and per group and week since entry.
Python then does the small statistics: mean weekly rates, and Welch's t
interval for the difference of per-customer rates. With fewer than 30
customers on either side the answer says so and estimates nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.utils import timezone
from scipy import stats

from customers.models import Customer, Interaction
from customers.vocabularies import Channel

from ..models import MemberState, Publication, PublicationMember

MIN_GROUP = 30
MAX_WEEKS = 26
CONFIDENCE = 0.95
METHOD = (
    "Welch's t-test on per-customer weekly interaction rates (interactions since entry "
    "divided by weeks observed, at least one), 95% confidence interval"
)


@dataclass
class _Vendor:
    weeks_since: str  # weeks from g.entered_at to the %s parameter
    week_index: str  # whole weeks from g.entered_at to i.occurred_at


def _vendor() -> _Vendor:
    if connection.vendor == "postgresql":
        return _Vendor(
            weeks_since="EXTRACT(EPOCH FROM (%s - g.entered_at)) / 604800.0",
            week_index="FLOOR(EXTRACT(EPOCH FROM (i.occurred_at - g.entered_at)) / 604800)",
        )
    return _Vendor(
        weeks_since="(julianday(%s) - julianday(g.entered_at)) / 7.0",
        week_index="CAST((julianday(i.occurred_at) - julianday(g.entered_at)) / 7 AS INTEGER)",
    )


def _groups_sql(publication: Publication) -> tuple[str, list]:
    """A CTE body: (customer_id, grp, entered_at) for sent and holdout members.

    Both come from the publication's decided members, from the time each reached
    that state; for email, holdout customers who opted out are left out, as they
    would have been from the sent side.
    """
    params: list = [publication.pk, MemberState.SENT.value, MemberState.HOLDOUT.value]
    suppressed = ""
    if publication.destination.channel == Channel.EMAIL:
        suppressed = "AND (p.state = %s OR c.email_opt_out = %s)"
        params += [MemberState.SENT.value, False]
    sql = f"""
        SELECT p.customer_id AS customer_id, p.state AS grp, p.since AS entered_at
        FROM {PublicationMember._meta.db_table} p
        JOIN {Customer._meta.db_table} c ON c.id = p.customer_id
        WHERE p.publication_id = %s AND p.state IN (%s, %s) {suppressed}"""
    return sql, params


def _welch(a: np.ndarray, b: np.ndarray) -> dict:
    """Difference of means a - b with Welch's 95% interval."""
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return {"estimate": diff, "low": diff, "high": diff, "p_value": None, "df": None}
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t_crit = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df))
    t_stat = diff / se
    p_value = float(2 * stats.t.sf(abs(t_stat), df))
    return {
        "estimate": diff,
        "low": diff - t_crit * se,
        "high": diff + t_crit * se,
        "p_value": p_value,
        "df": float(df),
    }


def _round(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def publication_measurement(*, publication: Publication, now=None) -> dict:
    """Weekly engagement per customer of sent and holdout members, and the lift."""
    now = now or timezone.now()
    channel = publication.destination.channel
    vendor = _vendor()
    groups, group_params = _groups_sql(publication)
    interactions = Interaction._meta.db_table
    per_customer_sql = f"""
        WITH g AS ({groups})
        SELECT g.grp, g.customer_id, {vendor.weeks_since} AS weeks,
               COUNT(i.id) AS n_all,
               COALESCE(SUM(CASE WHEN i.channel = %s THEN 1 ELSE 0 END), 0) AS n_channel
        FROM g LEFT JOIN {interactions} i
          ON i.customer_id = g.customer_id AND i.occurred_at >= g.entered_at
             AND i.occurred_at <= %s
        GROUP BY g.grp, g.customer_id, g.entered_at"""
    weekly_sql = f"""
        WITH g AS ({groups})
        SELECT g.grp, {vendor.week_index} AS week, COUNT(*) AS n_all,
               SUM(CASE WHEN i.channel = %s THEN 1 ELSE 0 END) AS n_channel
        FROM g JOIN {interactions} i
          ON i.customer_id = g.customer_id AND i.occurred_at >= g.entered_at
             AND i.occurred_at <= %s
        GROUP BY g.grp, {vendor.week_index}"""
    with connection.cursor() as cursor:
        cursor.execute(per_customer_sql, [*group_params, now, channel, now])
        rows = cursor.fetchall()
        cursor.execute(weekly_sql, [*group_params, channel, now])
        weekly_rows = cursor.fetchall()

    data: dict[str, dict[str, np.ndarray]] = {}
    for grp in ("sent", "holdout"):
        picked = [r for r in rows if r[0] == grp]
        weeks = np.array([max(float(r[2] or 0), 0.0) for r in picked], dtype=float)
        data[grp] = {
            "weeks": weeks,
            "all": np.array([int(r[3] or 0) for r in picked], dtype=float),
            "channel": np.array([int(r[4] or 0) for r in picked], dtype=float),
        }
    summary = {}
    for grp, d in data.items():
        exposure = np.maximum(d["weeks"], 1.0)
        n = len(d["weeks"])
        summary[grp] = {
            "customers": n,
            "rate_channel": float((d["channel"] / exposure).mean()) if n else None,
            "rate_all": float((d["all"] / exposure).mean()) if n else None,
        }

    # Weekly series: interactions in week w since entry per customer observed in week w.
    totals: dict[tuple[str, int], tuple[int, int]] = {}
    for grp, week, n_all, n_channel in weekly_rows:
        totals[(grp, int(week))] = (int(n_all or 0), int(n_channel or 0))
    observed_weeks = {
        grp: np.bincount(
            np.minimum(np.floor(d["weeks"]).astype(int), MAX_WEEKS), minlength=MAX_WEEKS + 1
        )
        for grp, d in data.items()
    }
    weekly = []
    for week in range(MAX_WEEKS):
        point = {"week": week}
        enough = True
        for grp in ("sent", "holdout"):
            # Customers observed for more than `week` whole weeks have week `week` in full.
            observed = int(observed_weeks[grp][week + 1 :].sum())
            n_all, n_channel = totals.get((grp, week), (0, 0))
            point[f"{grp}_customers"] = observed
            point[f"{grp}_channel"] = n_channel / observed if observed else None
            point[f"{grp}_all"] = n_all / observed if observed else None
            enough = enough and observed > 0
        if not enough:
            break
        weekly.append(_round(point))

    answer = {
        "publication": publication.pk,
        "segment": publication.segment.key,
        "channel": channel,
        "holdout_percent": publication.holdout_percent,
        "method": METHOD,
        "confidence": CONFIDENCE,
        "as_of": now.isoformat().replace("+00:00", "Z"),
        "groups": _round(summary),
        "weekly": weekly,
        "lift": None,
        "enough_data": False,
        "message": "",
    }
    n_sent, n_hold = summary["sent"]["customers"], summary["holdout"]["customers"]
    if n_sent < MIN_GROUP or n_hold < MIN_GROUP:
        answer["message"] = (
            f"not enough customers to estimate the lift: {n_sent} sent and {n_hold} in the "
            f"holdout; at least {MIN_GROUP} are needed on each side"
        )
        return answer
    rates = {
        grp: {kind: d[kind] / np.maximum(d["weeks"], 1.0) for kind in ("channel", "all")}
        for grp, d in data.items()
    }
    answer["lift"] = {
        kind: _round(_welch(rates["sent"][kind], rates["holdout"][kind]))
        for kind in ("channel", "all")
    }
    answer["enough_data"] = True
    answer["message"] = "lift = sent minus holdout, in interactions per customer per week"
    return answer
