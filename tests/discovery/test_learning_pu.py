"""The positive-unlabeled learner on generated feature tables (no database): pruning,
label frequency, the PU F1, the verdict and the near-duplicate grouping."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from discovery.learning import (
    MARGIN,
    Scores,
    design_from_table,
    group_near_duplicates,
    label_frequency,
    learn_rule,
    rule_document,
    standardized_differences,
    verdict,
)
from discovery.learning.clusters import Difference
from discovery.learning.design import Literal, literal_mask, pu_f1, rule_conditions
from discovery.services.personas import persona_label
from discovery.table import FeatureSpec, FeatureTable

SPECIALTIES = ["cardiology", "endocrinology", "nephrology", "oncology", "neurology"]
STATES = ["CA", "GA", "MA", "NE", "NY", "TX"]


def _table(n: int = 6000, seed: int = 3) -> FeatureTable:
    rng = np.random.default_rng(seed)
    trx12 = rng.poisson(rng.choice([1, 6, 15], size=n)).astype(np.float32)
    numeric = pd.DataFrame(
        {
            "decile": rng.integers(1, 11, n).astype(np.float32),
            "event:rep_visit:90d": rng.poisson(1.2, n).astype(np.float32),
            "event:phone:90d": rng.poisson(0.8, n).astype(np.float32),
            "rx:GLUCORA:trx:12m": trx12,
            "attr:survey_score": rng.uniform(0, 10, n).astype(np.float32),
        }
    )
    specs = {
        "decile": FeatureSpec("decile", "profile", "numeric", "Decile", path="decile"),
        "event:rep_visit:90d": FeatureSpec(
            "event:rep_visit:90d",
            "engagement",
            "count",
            "rep visits, 90 days",
            event={"channel": "rep_visit"},
            within_days=90,
        ),
        "event:phone:90d": FeatureSpec(
            "event:phone:90d",
            "engagement",
            "count",
            "phone, 90 days",
            event={"channel": "phone"},
            within_days=90,
        ),
        "rx:GLUCORA:trx:12m": FeatureSpec(
            "rx:GLUCORA:trx:12m",
            "rx",
            "sum",
            "TRX GLUCORA, 12 months",
            rx={"product": "GLUCORA"},
            metric="trx",
            months=12,
        ),
        "attr:survey_score": FeatureSpec(
            "attr:survey_score",
            "profile",
            "numeric",
            "survey score",
            path="attr.survey_score",
            integer=False,
        ),
    }
    categories = {
        "specialty": rng.choice(SPECIALTIES, n).astype(object),
        "state": rng.choice(STATES, n).astype(object),
    }
    return FeatureTable(
        as_of=dt.datetime(2026, 6, 30, tzinfo=dt.UTC),
        ids=np.arange(1, n + 1),
        numeric=numeric,
        categories=categories,
        specs=specs,
        category_values={"specialty": SPECIALTIES, "state": STATES},
    )


NEPHROLOGY_GLUCORA = [
    {"field": "specialty", "op": "eq", "value": "nephrology"},
    {
        "rx": {"product": "GLUCORA"},
        "metric": "trx",
        "months": 12,
        "sum": {"op": "gte", "value": 10},
    },
]
PLANTED = {
    "nephrology and GLUCORA trx 12m >= 10": (
        lambda t: (
            (t.categories["specialty"] == "nephrology")
            & (t.numeric["rx:GLUCORA:trx:12m"].to_numpy() >= 10)
        ),
        2,
    ),
    "cardiology or endocrinology, decile >= 7, rep visits >= 2": (
        lambda t: (
            np.isin(t.categories["specialty"], ["cardiology", "endocrinology"])
            & (t.numeric["decile"].to_numpy() >= 7)
            & (t.numeric["event:rep_visit:90d"].to_numpy() >= 2)
        ),
        3,
    ),
    "decile >= 9": (lambda t: t.numeric["decile"].to_numpy() >= 9, 1),
}


def _rule_mask(design, paths) -> np.ndarray:
    rows = np.arange(design.n)
    m = np.zeros(design.n, dtype=bool)
    for path in paths:
        p = np.ones(design.n, dtype=bool)
        for lit in path:
            p &= literal_mask(design, lit, rows)
        m |= p
    return m


def _f1(selected: np.ndarray, truth: np.ndarray) -> float:
    return 2 * (selected & truth).sum() / (selected.sum() + truth.sum())


@pytest.mark.parametrize("name", list(PLANTED))
@pytest.mark.parametrize("share", [0.7, 1.0])
def test_a_planted_rule_comes_back_without_padding(name, share):
    table = _table()
    truth, n = PLANTED[name][0](table), PLANTED[name][1]
    rng = np.random.default_rng(11)
    members = np.flatnonzero(truth)
    listed = rng.choice(members, size=int(len(members) * share), replace=False)
    y = np.zeros(len(truth), dtype=bool)
    y[listed] = True
    w = np.ones(len(y))
    design = design_from_table(table)
    c = label_frequency(design, y, w, max_conditions=4)
    assert c == pytest.approx(share, abs=0.12)
    learned = learn_rule(design, y, w, max_conditions=4, c=c)
    assert rule_conditions(design, learned.paths) <= n + 1
    assert _f1(_rule_mask(design, learned.paths), truth) >= 0.95


def test_the_nephrology_example_comes_back_as_its_two_conditions():
    table = _table()
    truth = PLANTED["nephrology and GLUCORA trx 12m >= 10"][0](table)
    members = np.flatnonzero(truth)
    listed = np.random.default_rng(5).choice(members, size=int(len(members) * 0.7), replace=False)
    y = np.isin(np.arange(len(truth)), listed)
    w = np.ones(len(y))
    design = design_from_table(table)
    c = label_frequency(design, y, w, max_conditions=4)
    learned = learn_rule(design, y, w, max_conditions=4, c=c)
    rule = rule_document(design, learned.paths)
    assert len(rule["any"]) == 1
    assert sorted(rule["any"][0]["all"], key=json.dumps) == sorted(
        NEPHROLOGY_GLUCORA, key=json.dumps
    )


def test_pu_f1_does_not_reward_cutting_unlisted_look_alikes():
    # A group of 100, 70 of them listed; a rule that also cuts 20 unlisted members and
    # 5 listed ones has a better F1 against the list but a worse PU F1.
    y = np.array([True] * 70 + [False] * 30 + [False] * 900)
    w = np.ones(len(y))
    group = np.zeros(len(y), dtype=bool)
    group[:100] = True
    padded = group.copy()
    padded[65:70] = False
    padded[70:90] = False
    plain = 2 * 70 / (100 + 70)
    tighter = 2 * 65 / (75 + 70)
    assert tighter > plain  # what the old simplifier chased
    assert pu_f1(group, y, w, 70, 0.7) > pu_f1(padded, y, w, 70, 0.7)
    assert pu_f1(group, y, w, 70, 0.7) == pytest.approx(1.0)
    assert pu_f1(group, y, w, 70, 1.0) == pytest.approx(plain)
    assert 0 < MARGIN <= 0.02


@pytest.mark.parametrize(
    ("precision", "recall", "share", "expected"),
    [
        (0.7, 0.95, 0.01, "describes"),
        (0.5, 0.8, 0.2, "describes"),
        (0.45, 0.9, 0.01, "partly"),
        (0.7, 0.5, 0.01, "partly"),
        (0.55, 0.9, 0.3, "no_pattern"),  # precision under 2s: chance-level for a 30% list
        (0.3, 1.0, 0.3, "no_pattern"),  # everyone selected
        (0.9, 0.2, 0.01, "no_pattern"),
        (0.6, 0.85, 0.3, "describes"),
    ],
)
def test_verdict_follows_the_holdout_figures_and_the_list_share(precision, recall, share, expected):
    assert verdict(Scores(precision, recall, 0.0), share) == expected


def test_near_duplicates_are_grouped_under_the_strongest():
    rng = np.random.default_rng(0)
    base = rng.poisson(5, 2000).astype(float)
    frame = pd.DataFrame(
        {
            "rx:all:trx:3m": base,
            "rx:all:trx:6m": base * 2 + rng.poisson(0.3, 2000),
            "rx:all:trx:12m": base * 4 + rng.poisson(0.5, 2000),
            "decile": rng.integers(1, 11, 2000).astype(float),
        }
    )
    inside = (base >= 7) | (frame["decile"].to_numpy() >= 10)
    differences = standardized_differences(frame, inside)
    groups = group_near_duplicates(frame, differences, top=15)
    leads = [g.lead.feature for g in groups]
    assert len(leads) == 2 and "decile" in leads
    trx = next(g for g in groups if g.lead.feature.startswith("rx:"))
    assert sorted([trx.lead.feature, *(d.feature for d in trx.like)]) == sorted(
        ["rx:all:trx:3m", "rx:all:trx:6m", "rx:all:trx:12m"]
    )


def _persona_label(rule_literals, differences) -> str:
    table = _table(n=200)
    design = design_from_table(table)
    col = {name: i for i, name in enumerate(design.names)}
    specialty = design.cat_paths.index("specialty")
    literals = []
    for name, lo, hi, levels in rule_literals:
        if name == "specialty":
            chosen = frozenset(design.cat_levels[specialty].index(v) for v in levels)
            literals.append(Literal(specialty, True, levels=chosen))
        else:
            literals.append(Literal(col[name], False, lo=lo, hi=hi))
    diffs = [Difference(name, smd, inside, 0.0) for name, smd, inside in differences]
    return persona_label(table, design, [tuple(literals)], diffs)


def test_a_persona_label_never_contradicts_its_rule():
    # The rule says high GLUCORA TRx; the profile (averages of the cluster) says low:
    # the label follows the rule and takes nothing about TRx from the profile.
    label = _persona_label(
        [("rx:GLUCORA:trx:12m", 10.0, None, None)],
        [("rx:GLUCORA:trx:12m", -1.2, 0.0), ("event:rep_visit:90d", 0.9, 0.0)],
    )
    assert label.startswith("High GLUCORA TRX"), label
    assert "Low GLUCORA" not in label
    # A specialty condition names the people; a decile condition its range.
    label = _persona_label(
        [("specialty", None, None, ["nephrology"]), ("decile", 8.0, None, None)],
        [("decile", -0.8, 0.0)],
    )
    assert label == "Nephrologists, decile 8+", label
    # A persona of "other" specialties reads as people too, never "Mostly other".
    label = _persona_label([("decile", None, 3.0, None)], [("specialty=other", 2.0, 1.0)])
    assert "other-specialty HCPs" in label and "Mostly other," not in label, label
