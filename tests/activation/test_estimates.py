"""The statistics of measurement against hand calculations: difference in differences,
Welch's interval, the minimum detectable effect, and the verdicts in words."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from activation.estimates import (
    LIFT,
    NO_DIFFERENCE,
    NOT_ENOUGH,
    NOTHING_YET,
    Estimate,
    Figure,
    customers_needed,
    difference_in_differences,
    minimum_detectable_effect,
    status_of,
    verdict,
    welch,
)

VISITS = Figure(noun="rep visits", unit="per customer per week")


def test_difference_in_differences_matches_a_hand_calculation():
    # sent: differences after - before are 2, 3, 1 (mean 2, variance 1);
    # holdout: 0, 1, -1, 0 (mean 0, variance 2/3).
    est = difference_in_differences([1, 2, 3], [3, 5, 4], [2, 2, 2, 2], [2, 3, 1, 2])
    assert est.estimate == pytest.approx(2.0)
    # Welch: se = sqrt(1/3 + (2/3)/4) = sqrt(0.5); df = 0.25 / ((1/3)^2/2 + (1/6)^2/3) = 3.857.
    se = math.sqrt(0.5)
    df = 0.25 / ((1 / 3) ** 2 / 2 + (1 / 6) ** 2 / 3)
    assert df == pytest.approx(3.857, abs=1e-3)
    assert est.df == pytest.approx(df)
    t = stats.t.ppf(0.975, df)
    assert est.low == pytest.approx(2.0 - t * se)
    assert est.high == pytest.approx(2.0 + t * se)
    assert est.sent == 3 and est.holdout == 4


def test_a_common_trend_cancels_out():
    # Both sides grow by 5 after entry; the sent side by 1 more.
    before = [1.0, 2.0, 3.0, 4.0]
    est = difference_in_differences(
        before, [b + 6 + (i % 2) * 0.2 for i, b in enumerate(before)],
        before, [b + 5 + (i % 2) * 0.2 for i, b in enumerate(before)],
    )  # fmt: skip
    assert est.estimate == pytest.approx(1.0)


def test_welch_is_none_without_variation_or_people():
    assert welch([0, 0, 0], [0, 0, 0]) is None
    assert welch([1], [1, 2]) is None


def test_minimum_detectable_effect_for_100_per_side():
    # Known value: 80% power, 5% two-sided, 100 per group: d = 0.398 (z approximation 0.396).
    assert minimum_detectable_effect(sent=100, holdout=100, sd=1.0) == pytest.approx(
        0.398, abs=2e-3
    )
    assert minimum_detectable_effect(sent=100, holdout=100, sd=2.0) == pytest.approx(
        0.796, abs=4e-3
    )
    assert minimum_detectable_effect(sent=1, holdout=100, sd=1.0) is None
    # More customers find smaller effects.
    assert minimum_detectable_effect(sent=400, holdout=400, sd=1.0) < 0.2


def test_customers_needed_to_see_an_effect_of_a_given_size():
    # An effect of 0.398 sd is seen with about 100 per side (200 in all) at a 50% holdout.
    assert customers_needed(effect=0.398, sd=1.0, holdout_share=0.5) == pytest.approx(200, abs=4)
    assert customers_needed(effect=0.0, sd=1.0, holdout_share=0.5) is None
    # Never fewer than 30 on the smaller side.
    assert customers_needed(effect=10.0, sd=1.0, holdout_share=0.1) >= 300


def _estimate(estimate, low, high):
    return Estimate(estimate, low, high, 0.01, 50.0, 100, 100, 1.0)


def test_verdict_when_the_interval_excludes_zero():
    text = verdict(VISITS, _estimate(0.31, 0.12, 0.50), status=LIFT)
    assert text == (
        "sent customers had more rep visits than held-out ones "
        "(lift 0.310 per customer per week, 95% CI 0.120 to 0.500)"
    )
    fewer = verdict(VISITS, _estimate(-2.5, -4.0, -1.0), status=LIFT)
    assert fewer.startswith("sent customers had fewer rep visits")
    assert "lift -2.50" in fewer


def test_verdict_when_the_interval_covers_zero():
    text = verdict(VISITS, _estimate(0.05, -0.1, 0.2), status=NO_DIFFERENCE)
    assert text.startswith("no measurable difference yet")
    assert "95% CI -0.100 to 0.200" in text


def test_verdict_with_too_few_customers_and_with_nothing_yet():
    assert verdict(VISITS, None, status=NOT_ENOUGH, reason="12 sent").startswith(
        "not enough customers yet"
    )
    assert verdict(VISITS, None, status=NOTHING_YET).startswith("nothing to measure yet")


def test_status_needs_30_per_side():
    est = _estimate(0.31, 0.12, 0.50)
    assert status_of(est, sent=29, holdout=100) == NOT_ENOUGH
    assert status_of(est, sent=30, holdout=30) == LIFT
    assert status_of(_estimate(0.1, -0.1, 0.3), sent=30, holdout=30) == NO_DIFFERENCE
    assert status_of(None, sent=30, holdout=30) == NOTHING_YET
