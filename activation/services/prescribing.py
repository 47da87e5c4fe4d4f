"""Measurement on prescribing (docs/activation.md, "Measurement", ``rx``).

For the products the publication's approved content is about (a product is
"about" when its name appears in the title of an approved, live asset that
lists the publication's channel; with none named, all products), each side's
monthly NRx and TRx per customer in the months before the entry month and the
months after it, and the lift as a difference in differences: (sent after -
before) - (holdout after - before), Welch's interval on per-customer
differences (``activation.estimates``).

Months are counted from each customer's entry month (offset 0, left out of
both windows, since it is part before and part after): up to 6 months before
and up to 12 after, bounded by the months with rx data for these customers. A
customer without a fact for a product in a month with data wrote nothing. Two
SQL aggregates do the counting: per customer, and per group and month offset.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
from django.db import connection

from content.selectors import live_mappings
from core.replica import read_cursor
from customers.models import RxFact

from ..estimates import (
    MIN_GROUP,
    NOT_ENOUGH,
    NOTHING_YET,
    Figure,
    difference_in_differences,
    status_of,
    verdict,
)
from ..models import Publication
from .measured import add_side, groups_sql, mde_entry, round_floats

MONTHS_BEFORE = 6
MONTHS_AFTER = 12
METRICS = ("nrx", "trx")
RX_METHOD = (
    "difference in differences: per customer, mean monthly prescriptions in the months after "
    "the entry month minus the months before it (up to 6 before, up to 12 after, the entry "
    "month left out); the lift is the sent customers' mean difference minus the holdout's, "
    "with Welch's t-test 95% confidence interval on the per-customer differences"
)


def content_products(*, segment_id: int, channel: str) -> list[str]:
    """Products with rx facts named in the titles of the segment's approved content for
    the channel."""
    titles = [
        title
        for title, channels in live_mappings()
        .filter(segment_id=segment_id)
        .values_list("asset__title", "asset__channels")
        if channel in (channels or [])
    ]
    words = {w for title in titles for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9_-]*", title)}
    candidates = sorted(words | {w.upper() for w in words})
    return [p for p in candidates if RxFact.objects.filter(product=p).exists()]


def month_index(column: str) -> str:
    """Months since year 0 of a date or timestamp column (UTC), as an SQL integer."""
    if connection.vendor == "postgresql":
        return (
            f"(CAST(EXTRACT(YEAR FROM {column}) AS INTEGER) * 12 "
            f"+ CAST(EXTRACT(MONTH FROM {column}) AS INTEGER) - 1)"
        )
    return (
        f"(CAST(strftime('%%Y', {column}) AS INTEGER) * 12 "
        f"+ CAST(strftime('%%m', {column}) AS INTEGER) - 1)"
    )


def index_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _figures(products: list[str]) -> dict[str, Figure]:
    named = " and ".join(products) if products else ""
    figures = {}
    for metric in METRICS:
        label = "TRx" if metric == "trx" else "NRx"
        figures[metric] = Figure(
            noun=f"{named} {label}" if named else f"{label} (all products)",
            unit=f"{label} per customer per month",
            relative=", relative to before entry",
        )
    return figures


def rx_measurement(*, publication: Publication) -> dict:
    """The ``rx`` block of the measurement, with its verdicts and mde under
    ``verdicts`` and ``mde`` (the caller files them with the other figures)."""
    products = content_products(
        segment_id=publication.segment_id, channel=publication.destination.channel
    )
    groups, group_params = groups_sql(publication)
    table = RxFact._meta.db_table
    product_sql, product_params = "", []
    if products:
        product_sql = f"AND r.product IN ({', '.join(['%s'] * len(products))})"
        product_params = list(products)
    entry = month_index("g.entered_at")
    offset = f"({month_index('r.month')} - {entry})"
    # The facts drive the join (SQLite reads them by product and month, and the
    # group through an automatic index); members without facts are added back
    # from the members' query.
    facts = f"""{table} r JOIN g ON g.customer_id = r.customer_id
        WHERE r.month >= %s {product_sql}"""
    members_sql = f"WITH g AS ({groups}) SELECT g.grp, g.customer_id, {entry} FROM g"
    window = f"""CASE WHEN {offset} BETWEEN -{MONTHS_BEFORE} AND -1 THEN 0
                      WHEN {offset} BETWEEN 1 AND {MONTHS_AFTER} THEN 1 END"""
    per_customer_sql = f"""
        WITH g AS ({groups})
        SELECT g.customer_id, {window} AS side, SUM(r.nrx), SUM(r.trx)
        FROM {facts} AND {window} IS NOT NULL
        GROUP BY g.customer_id, {window}"""
    monthly_sql = f"""
        WITH g AS ({groups})
        SELECT g.grp, {offset} AS month_offset, SUM(r.nrx), SUM(r.trx)
        FROM {facts} AND {offset} BETWEEN -{MONTHS_BEFORE} AND {MONTHS_AFTER}
        GROUP BY g.grp, {offset}"""
    bounds_sql = f"WITH g AS ({groups}) SELECT MIN(r.month), MAX(r.month) FROM {facts}"
    with read_cursor() as cursor:  # the replica when the request allows it
        cursor.execute(members_sql, group_params)
        members = cursor.fetchall()
        if not members:
            first = last = None
            rows, monthly_rows = [], []
        else:
            earliest = min(int(m[2]) for m in members) - MONTHS_BEFORE
            since = connection.ops.adapt_datefield_value(date(earliest // 12, earliest % 12 + 1, 1))
            params = [*group_params, since, *product_params]
            cursor.execute(bounds_sql, params)
            first, last = cursor.fetchone()
            cursor.execute(per_customer_sql, params)
            rows = cursor.fetchall()
            cursor.execute(monthly_sql, params)
            monthly_rows = cursor.fetchall()
    first_index = index_of(as_date(first)) if first else None
    last_index = index_of(as_date(last)) if last else None
    return _assemble(
        products=products,
        members=members,
        rows=rows,
        monthly_rows=monthly_rows,
        first_index=first_index,
        last_index=last_index,
    )


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _windows(entry: np.ndarray, first: int | None, last: int | None) -> tuple:
    """Months with data before and after each customer's entry month."""
    if first is None or last is None:
        zero = np.zeros(len(entry), dtype=int)
        return zero, zero
    before = np.clip((entry - 1) - np.maximum(entry - MONTHS_BEFORE, first) + 1, 0, None)
    after = np.clip(np.minimum(entry + MONTHS_AFTER, last) - (entry + 1) + 1, 0, None)
    return before, after


def _assemble(*, products, members, rows, monthly_rows, first_index, last_index) -> dict:
    figures = _figures(products)
    # (customer, 0 before / 1 after) -> (nrx, trx)
    sums_of = {(c, int(w)): (float(n or 0), float(t or 0)) for c, w, n, t in rows}
    side: dict[str, dict] = {}
    for grp in ("sent", "holdout"):
        picked = [m for m in members if m[0] == grp]
        entry = np.array([int(m[2]) for m in picked], dtype=int)
        sums = np.array(
            [
                [*sums_of.get((m[1], 0), (0.0, 0.0)), *sums_of.get((m[1], 1), (0.0, 0.0))]
                for m in picked
            ],
            dtype=float,
        ).reshape(-1, 4)
        n_before, n_after = _windows(entry, first_index, last_index)
        measured = (n_before > 0) & (n_after > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = {
                "nrx_before": sums[:, 0] / n_before,
                "trx_before": sums[:, 1] / n_before,
                "nrx_after": sums[:, 2] / n_after,
                "trx_after": sums[:, 3] / n_after,
            }
        side[grp] = {
            "members": len(picked),
            "entry": entry,
            "measured": int(measured.sum()),
            "values": {k: v[measured] for k, v in values.items()},
        }

    groups = {}
    for grp, s in side.items():
        groups[grp] = {"customers": s["measured"], "members": s["members"]}
        for key, v in s["values"].items():
            groups[grp][key] = float(v.mean()) if len(v) else None

    members = (side["sent"]["members"], side["holdout"]["members"])
    measured = (side["sent"]["measured"], side["holdout"]["measured"])
    latest = _label(last_index) if last_index is not None else None
    if last_index is None:
        nothing = "no rx data for these customers yet"
    elif min(measured) < MIN_GROUP <= min(members):
        nothing = (
            f"no rx data for the months after entry yet (the latest month with rx data is "
            f"{latest}; the entry month itself is not counted)"
        )
    else:
        nothing = ""

    lift, verdicts, mde = {}, {}, {}
    for metric, figure in figures.items():
        sent, hold = side["sent"]["values"], side["holdout"]["values"]
        before, after = f"{metric}_before", f"{metric}_after"
        sent_d, hold_d = sent[after] - sent[before], hold[after] - hold[before]
        estimate = None
        if min(members) >= MIN_GROUP and not nothing:
            estimate = difference_in_differences(
                sent[before], sent[after], hold[before], hold[after]
            )
        status = status_of(estimate, sent=members[0], holdout=members[1])
        if status == NOT_ENOUGH:
            reason = (
                f"{members[0]} sent and {members[1]} held out; at least {MIN_GROUP} are "
                "needed on each side"
            )
        else:
            reason = nothing or "no prescriptions of these products before or after entry"
        if status == NOTHING_YET:
            estimate = None
        lift[metric] = round_floats(estimate.as_dict()) if estimate is not None else None
        verdicts[metric] = verdict(figure, estimate, status=status, reason=reason)
        mde[metric] = mde_entry(
            figure, sent=sent_d, holdout=hold_d, estimate=estimate, status=status, members=members
        )

    answer = {
        "products": products,
        "all_products": not products,
        "method": RX_METHOD,
        "unit": "prescriptions per customer per month",
        "months_before": MONTHS_BEFORE,
        "months_after": MONTHS_AFTER,
        "first_month": _label(first_index) if first_index is not None else None,
        "latest_month": latest,
        "groups": round_floats(groups),
        "months": _months(side, monthly_rows, first_index, last_index),
        "lift": lift if any(v is not None for v in lift.values()) else None,
        "enough_data": any(v is not None for v in lift.values()),
        "message": "",
        "verdicts": verdicts,
        "mde": mde,
    }
    if answer["enough_data"]:
        answer["message"] = (
            "lift = (sent after - before) - (holdout after - before), in prescriptions per "
            "customer per month"
        )
    elif min(members) < MIN_GROUP:
        answer["message"] = (
            f"not enough customers yet: {members[0]} sent and {members[1]} held out; at least "
            f"{MIN_GROUP} are needed on each side"
        )
    else:
        answer["message"] = f"nothing to measure yet: {nothing or reason}"
    return answer


def _months(side: dict, monthly_rows, first: int | None, last: int | None) -> list[dict]:
    """Monthly NRx and TRx per customer by month since entry (0: the entry month), each
    side averaged over its customers whose month has rx data; later months say so."""
    totals = {(grp, int(off)): (float(n or 0), float(t or 0)) for grp, off, n, t in monthly_rows}
    entries = np.concatenate([side["sent"]["entry"], side["holdout"]["entry"]])
    if first is None or last is None or not len(entries):
        return []
    top = int(np.clip(last - entries.min(), 1, MONTHS_AFTER))
    months = []
    for off in range(-MONTHS_BEFORE, top + 1):
        point: dict = {"offset": off, "rx_data": True, "note": ""}
        any_data = False
        for grp, s in side.items():
            month = s["entry"] + off
            observed = int(((month >= first) & (month <= last)).sum())
            nrx, trx = totals.get((grp, off), (0.0, 0.0))
            add_side(point, grp, observed, {"nrx": nrx, "trx": trx})
            any_data = any_data or observed > 0
        if not any_data:
            point["rx_data"] = False
            point["note"] = "no rx data yet" if off > 0 else "no rx data"
        months.append(round_floats(point))
    return months
