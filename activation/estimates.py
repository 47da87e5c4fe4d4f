"""The statistics of measurement (docs/activation.md, "Measurement"): pure computation.

Per-customer numbers in, small dataclasses out; no database, no HTTP. statsmodels
does the work:

* ``welch``: the difference of two means (sent minus holdout) with Welch's 95%
  interval (``CompareMeans.tconfint_diff(usevar="unequal")``).
* ``difference_in_differences``: Welch on per-customer differences (after minus
  before), so the lift is (sent after - before) - (holdout after - before).
* ``minimum_detectable_effect``: the smallest true lift found with 80% power at
  5% two-sided significance for the group sizes and their pooled standard
  deviation (``TTestIndPower``), and the customers an effect of a given size
  would need.
* ``verdict``: the sentence a brand team reads for one figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

MIN_GROUP = 30
CONFIDENCE = 0.95
ALPHA = 0.05
POWER = 0.8

LIFT, NO_DIFFERENCE, NOT_ENOUGH, NOTHING_YET = "lift", "no_difference", "not_enough", "nothing_yet"


@dataclass(frozen=True)
class Estimate:
    """sent minus holdout, with its 95% interval and what it rests on."""

    estimate: float
    low: float
    high: float
    p_value: float
    df: float
    sent: int
    holdout: int
    sd: float  # pooled standard deviation of the per-customer values

    @property
    def covers_zero(self) -> bool:
        return self.low <= 0.0 <= self.high

    def as_dict(self) -> dict:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "df": self.df,
        }


def pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    """The pooled sample standard deviation of two groups (0 when it cannot be estimated)."""
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return 0.0
    ss = (na - 1) * float(np.var(a, ddof=1)) + (nb - 1) * float(np.var(b, ddof=1))
    return math.sqrt(ss / (na + nb - 2))


def welch(a, b) -> Estimate | None:
    """mean(a) - mean(b) with Welch's 95% interval; None when it cannot be estimated
    (fewer than two values on a side, or no variation at all)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = float(np.var(a, ddof=1)) / len(a), float(np.var(b, ddof=1)) / len(b)
    if va + vb == 0:
        return None
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    low, high = compare.tconfint_diff(alpha=1 - CONFIDENCE, usevar="unequal")
    _, p_value, df = compare.ttest_ind(usevar="unequal")
    return Estimate(
        estimate=float(a.mean() - b.mean()),
        low=float(low),
        high=float(high),
        p_value=float(p_value),
        df=float(df),
        sent=len(a),
        holdout=len(b),
        sd=pooled_sd(a, b),
    )


def difference_in_differences(sent_before, sent_after, hold_before, hold_after) -> Estimate | None:
    """(sent after - before) - (holdout after - before), Welch on per-customer differences."""
    sent = np.asarray(sent_after, dtype=float) - np.asarray(sent_before, dtype=float)
    hold = np.asarray(hold_after, dtype=float) - np.asarray(hold_before, dtype=float)
    return welch(sent, hold)


def minimum_detectable_effect(*, sent: int, holdout: int, sd: float) -> float | None:
    """The smallest lift detected with 80% power at 5% two-sided significance."""
    if sent < 2 or holdout < 2 or not sd > 0:
        return None
    d = TTestIndPower().solve_power(
        effect_size=None, nobs1=sent, alpha=ALPHA, power=POWER, ratio=holdout / sent
    )
    return float(d) * sd


def customers_needed(*, effect: float, sd: float, holdout_share: float) -> int | None:
    """Customers (both sides) for ``effect`` to be detected with 80% power, keeping the
    holdout's share; None when the effect is zero or cannot be sized."""
    if not effect or not sd > 0 or not 0 < holdout_share < 1:
        return None
    ratio = holdout_share / (1 - holdout_share)
    n_sent = TTestIndPower().solve_power(
        effect_size=abs(effect) / sd, nobs1=None, alpha=ALPHA, power=POWER, ratio=ratio
    )
    # Both sides need at least MIN_GROUP customers to be estimated at all.
    n_sent = max(float(n_sent), MIN_GROUP, MIN_GROUP / ratio)
    return math.ceil(n_sent * (1 + ratio))


def number(value: float, *, scale: float | None = None) -> str:
    """A figure in words: two decimals, three below 1 so small rates do not read as 0."""
    scale = abs(value) if scale is None else scale
    return f"{value:.2f}" if scale >= 1 else f"{value:.3f}"


@dataclass(frozen=True)
class Figure:
    """What one figure measures, for its sentence: "sent customers had more <noun>"."""

    noun: str  # "rep visits", "CARDIOZEN TRx"
    unit: str  # "per customer per week", "TRx per customer per month"
    relative: str = ""  # ", relative to before entry" for a difference in differences


def verdict(figure: Figure, estimate: Estimate | None, *, status: str, reason: str = "") -> str:
    """The verdict in words for one figure."""
    if status == NOT_ENOUGH:
        return f"not enough customers yet ({reason})" if reason else "not enough customers yet"
    if status == NOTHING_YET or estimate is None:
        return f"nothing to measure yet: {reason}" if reason else "nothing to measure yet"
    scale = max(abs(estimate.low), abs(estimate.high))
    figures = (
        f"lift {number(estimate.estimate, scale=scale)} {figure.unit}, 95% CI "
        f"{number(estimate.low, scale=scale)} to {number(estimate.high, scale=scale)}"
    )
    if estimate.covers_zero:
        return f"no measurable difference yet ({figures})"
    more = "more" if estimate.estimate > 0 else "fewer"
    return (
        f"sent customers had {more} {figure.noun} than held-out ones{figure.relative} ({figures})"
    )


def status_of(estimate: Estimate | None, *, sent: int, holdout: int) -> str:
    if sent < MIN_GROUP or holdout < MIN_GROUP:
        return NOT_ENOUGH
    if estimate is None:
        return NOTHING_YET
    return NO_DIFFERENCE if estimate.covers_zero else LIFT
