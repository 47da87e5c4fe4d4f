"""Measurement: sent versus holdout after entry, the lift with a 95% interval, a verdict
in words for every figure and the minimum detectable effect.

See docs/activation.md, "Measurement". Two SQL aggregates do the counting of
engagement: per customer (interactions on the channel and on all channels
since the customer entered, and the weeks observed) and per group and week
since entry. Prescribing (``rx``) is counted by ``.prescribing``. The small
statistics (Welch's interval, the difference in differences, the power
analysis and the sentences) are ``activation.estimates``. With fewer than 30
customers on either side a figure says so and estimates nothing; with nothing
observed yet it says that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.utils import timezone

from core.replica import read_cursor
from customers.models import Interaction
from customers.vocabularies import Channel

from ..estimates import (
    ALPHA,
    CONFIDENCE,
    MIN_GROUP,
    NOT_ENOUGH,
    POWER,
    Figure,
    status_of,
    verdict,
    welch,
)
from ..models import Publication
from .measured import MDE_METHOD, add_side, groups_sql, mde_entry, measured_on, round_floats
from .prescribing import rx_measurement

MAX_WEEKS = 26
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


# What a channel's interactions are called in a sentence.
CHANNEL_NOUNS = {
    Channel.REP_VISIT: "rep visits",
    Channel.REMOTE_DETAIL: "remote details",
    Channel.EMAIL: "email interactions",
    Channel.WEBINAR: "webinar interactions",
    Channel.CONGRESS: "congress interactions",
    Channel.SPEAKER_PROGRAM: "speaker program interactions",
    Channel.PORTAL: "portal interactions",
    Channel.PHONE: "phone interactions",
}
WEEKLY_UNIT = "interactions per customer per week"


def engagement_figures(channel: str) -> dict[str, Figure]:
    return {
        "channel": Figure(
            noun=CHANNEL_NOUNS.get(channel, f"{channel} interactions"), unit=WEEKLY_UNIT
        ),
        "all": Figure(noun="interactions on all channels", unit=WEEKLY_UNIT),
    }


def _engagement(publication: Publication, now) -> tuple[dict, list]:
    """Per customer: weeks observed and interactions on the channel and on all channels;
    and the weekly totals per group and week since entry."""
    channel = publication.destination.channel
    vendor = _vendor()
    groups, group_params = groups_sql(publication)
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
    with read_cursor() as cursor:  # the replica when the request allows it
        cursor.execute(per_customer_sql, [*group_params, now, channel, now])
        rows = cursor.fetchall()
        cursor.execute(weekly_sql, [*group_params, channel, now])
        weekly_rows = cursor.fetchall()
    data: dict[str, dict[str, np.ndarray]] = {}
    for grp in ("sent", "holdout"):
        picked = [r for r in rows if r[0] == grp]
        data[grp] = {
            "weeks": np.array([max(float(r[2] or 0), 0.0) for r in picked], dtype=float),
            "all": np.array([int(r[3] or 0) for r in picked], dtype=float),
            "channel": np.array([int(r[4] or 0) for r in picked], dtype=float),
        }
    return data, weekly_rows


def _weekly(data: dict, weekly_rows: list) -> list[dict]:
    """Interactions in week w since entry per customer observed for all of week w."""
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
            add_side(point, grp, observed, {"channel": n_channel, "all": n_all})
            enough = enough and observed > 0
        if not enough:
            break
        weekly.append(round_floats(point))
    return weekly


def publication_measurement(*, publication: Publication, now=None) -> dict:
    """Sent versus holdout: engagement and prescribing, lifts, verdicts and what it would take."""
    now = now or timezone.now()
    channel = publication.destination.channel
    data, weekly_rows = _engagement(publication, now)
    summary = {}
    rates = {}
    for grp, d in data.items():
        exposure = np.maximum(d["weeks"], 1.0)
        rates[grp] = {kind: d[kind] / exposure for kind in ("channel", "all")}
        n = len(d["weeks"])
        summary[grp] = {
            "customers": n,
            "rate_channel": float(rates[grp]["channel"].mean()) if n else None,
            "rate_all": float(rates[grp]["all"].mean()) if n else None,
        }
    n_sent, n_hold = summary["sent"]["customers"], summary["holdout"]["customers"]
    weeks = np.concatenate([data["sent"]["weeks"], data["holdout"]["weeks"]])
    observed = float(weeks.max()) if len(weeks) else 0.0
    figures = engagement_figures(channel)
    estimates, verdicts, mde = {}, {}, {}
    nothing_reason = ""
    if observed < 1:
        nothing_reason = "the customers entered less than a week ago"
    for kind, figure in figures.items():
        estimate = None
        if n_sent >= MIN_GROUP and n_hold >= MIN_GROUP and not nothing_reason:
            estimate = welch(rates["sent"][kind], rates["holdout"][kind])
        status = status_of(estimate, sent=n_sent, holdout=n_hold)
        reason = _reason(status, n_sent, n_hold) or nothing_reason or "no interactions since entry"
        estimates[kind] = estimate
        verdicts[kind] = verdict(figure, estimate, status=status, reason=reason)
        mde[kind] = mde_entry(
            figure,
            sent=rates["sent"][kind],
            holdout=rates["holdout"][kind],
            estimate=estimate,
            status=status,
            weeks=float(weeks.mean()) if len(weeks) else None,
        )

    rx = rx_measurement(publication=publication)
    for kind in ("nrx", "trx"):
        verdicts[kind] = rx["verdicts"].pop(kind)
        mde[kind] = rx["mde"].pop(kind)
    del rx["verdicts"], rx["mde"]

    answer = {
        "publication": publication.pk,
        "segment": publication.segment.key,
        "channel": channel,
        "holdout_percent": publication.holdout_percent,
        "method": METHOD,
        "measured": measured_on(publication),
        "confidence": CONFIDENCE,
        "as_of": now.isoformat().replace("+00:00", "Z"),
        "groups": round_floats(summary),
        "weekly": _weekly(data, weekly_rows),
        "lift": None,
        "enough_data": False,
        "message": "",
        "rx": rx,
        "verdict": verdicts,
        "mde": round_floats({"power": POWER, "alpha": ALPHA, "method": MDE_METHOD, **mde}),
    }
    if n_sent < MIN_GROUP or n_hold < MIN_GROUP:
        answer["message"] = (
            f"not enough customers yet to estimate the lift: {n_sent} sent and {n_hold} in the "
            f"holdout; at least {MIN_GROUP} are needed on each side"
        )
        return answer
    if all(e is None for e in estimates.values()):
        reason = nothing_reason or "no interactions since entry"
        answer["message"] = f"nothing to measure yet: {reason}"
        return answer
    answer["lift"] = {
        kind: round_floats(e.as_dict()) if e is not None else None for kind, e in estimates.items()
    }
    answer["enough_data"] = True
    answer["message"] = "lift = sent minus holdout, in interactions per customer per week"
    return answer


def _reason(status: str, n_sent: int, n_hold: int) -> str:
    if status != NOT_ENOUGH:
        return ""
    return f"{n_sent} sent and {n_hold} held out; at least {MIN_GROUP} are needed on each side"
