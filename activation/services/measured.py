"""What the engagement and prescribing measurements share (docs/activation.md,
"Measurement"): the two groups in SQL, rounding, and one figure's "what it would take".
"""

from __future__ import annotations

import math

import numpy as np

from customers.models import Customer
from customers.vocabularies import Channel
from segmentation.models import Unit

from ..estimates import (
    ALPHA,
    MIN_GROUP,
    NO_DIFFERENCE,
    NOT_ENOUGH,
    POWER,
    Estimate,
    Figure,
    customers_needed,
    minimum_detectable_effect,
    number,
    pooled_sd,
)
from ..models import MemberState, Publication, PublicationMember

MDE_METHOD = (
    "two-sample t-test power analysis (statsmodels TTestIndPower): the smallest true lift "
    f"found with {POWER:.0%} power at {ALPHA:.0%} two-sided significance, for today's group "
    "sizes and the pooled standard deviation of the per-customer values"
)


def groups_sql(publication: Publication) -> tuple[str, list]:
    """A CTE body: (customer_id, grp, entered_at) for sent and holdout members.

    Both come from the publication's decided members, from the time each reached
    that state; for email, holdout customers who opted out are left out, as they
    would have been from the sent side. For an account segment's publication
    the customers are the active customers affiliated with the sent and the
    held-out accounts, each from the day their account entered.
    """
    params: list = [publication.pk, MemberState.SENT.value, MemberState.HOLDOUT.value]
    if publication.segment.unit == Unit.ACCOUNT:
        sql = f"""
        SELECT c.id AS customer_id, p.state AS grp, p.since AS entered_at
        FROM {PublicationMember._meta.db_table} p
        JOIN {Customer._meta.db_table} c ON c.account_id = p.account_id AND c.active = %s
        WHERE p.publication_id = %s AND p.state IN (%s, %s)"""
        return sql, [True, *params]
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


def measured_on(publication: Publication) -> str:
    """Who the figures count, in words: the members, or an account segment's customers."""
    if publication.segment.unit == Unit.ACCOUNT:
        return (
            "the active customers affiliated with the sent and the held-out accounts, "
            "each from the day their account entered"
        )
    return "the sent and the held-out customers, each from the day they entered"


def round_floats(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: round_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v) for v in value]
    return value


def add_side(point: dict, grp: str, observed: int, totals: dict[str, float]) -> None:
    """One side of a series point: its customers observed, and each total per customer
    (null when no customer was observed)."""
    point[f"{grp}_customers"] = observed
    for key, total in totals.items():
        point[f"{grp}_{key}"] = total / observed if observed else None


def mde_entry(
    figure: Figure,
    *,
    sent: np.ndarray,
    holdout: np.ndarray,
    estimate: Estimate | None,
    status: str,
    members: tuple[int, int] | None = None,
    weeks: float | None = None,
) -> dict:
    """The minimum detectable effect of one figure and, when its interval covers zero,
    what would make an effect the size of today's estimate visible. ``members`` (sent,
    held out) when the side's values leave some members out (no months to compare)."""
    n_sent, n_hold = len(sent), len(holdout)
    sd = pooled_sd(sent, holdout)
    mde = minimum_detectable_effect(sent=n_sent, holdout=n_hold, sd=sd)
    entry = {
        "effect": mde,
        "unit": figure.unit,
        "sent": n_sent,
        "holdout": n_hold,
        "sd": sd if sd > 0 else None,
        "wide": status in (NO_DIFFERENCE, NOT_ENOUGH),
        "customers_needed": None,
        "more_customers": None,
        "more_weeks": None,
        "text": "",
    }
    total = n_sent + n_hold
    share = n_hold / total if total else 0.0
    if status == NOT_ENOUGH:
        m_sent, m_hold = members or (n_sent, n_hold)
        m_share = m_hold / (m_sent + m_hold) if m_sent + m_hold else 0.0
        if 0 < m_share < 1:
            needed = math.ceil(MIN_GROUP / min(m_share, 1 - m_share))
            entry["customers_needed"] = needed
            entry["more_customers"] = max(needed - m_sent - m_hold, 0)
    if mde is None:
        entry["text"] = (
            "the smallest detectable lift cannot be sized yet (it needs at least two "
            "customers on each side and some variation between them)"
        )
        return _with_need(entry)
    entry["text"] = (
        f"with {n_sent:,} sent and {n_hold:,} held-out customers, the smallest lift this "
        f"measurement can detect ({POWER:.0%} power, {ALPHA:.0%} two-sided) is "
        f"{number(mde)} {figure.unit}"
    )
    if status == NO_DIFFERENCE and estimate is not None and estimate.estimate:
        size = abs(estimate.estimate)
        needed = customers_needed(effect=size, sd=sd, holdout_share=share)
        if needed is not None:
            entry["customers_needed"] = needed
            entry["more_customers"] = max(needed - total, 0)
        if weeks and weeks > 0:
            # A customer's weekly rate varies about as a count over the weeks observed
            # (Poisson), so its variance falls in proportion to the weeks.
            entry["more_weeks"] = max(math.ceil(weeks * (mde / size) ** 2 - weeks), 0)
    return _with_need(entry, estimate=estimate)


def _with_need(entry: dict, *, estimate: Estimate | None = None) -> dict:
    parts = []
    if entry["more_customers"] is not None:
        size = (
            f"a lift the size of today's estimate ({number(abs(estimate.estimate))})"
            if estimate is not None and entry["wide"] and entry["effect"] is not None
            else "an estimate"
        )
        parts.append(
            f"{size} would need about {entry['customers_needed']:,} customers in all "
            f"({entry['more_customers']:,} more) at this holdout"
        )
    if entry["more_weeks"] is not None:
        parts.append(f"or about {entry['more_weeks']:,} more weeks of data")
    if parts:
        entry["text"] = "; ".join(p for p in [entry["text"], " ".join(parts)] if p)
    return entry
