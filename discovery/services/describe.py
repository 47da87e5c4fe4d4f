"""Describe a list as a rule (docs/discovery.md, "Describe a list").

The list against the rest of the population, treated as positive-unlabeled
(the list is a sample of a group; unlisted customers are unlabeled): the
label frequency is estimated (``learning.label_frequency``), a class-weighted
shallow decision tree proposes paths and backward pruning keeps a condition
only when it adds more than a margin to the PU F1 (``learning.learn_rule``).
``selected`` and ``metrics`` come from evaluating that exact rule with the
segment engine; ``holdout`` is cross-validated (stratified 3-fold) and gives
the ``verdict``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import sklearn

from accounts.permissions import require
from core.errors import ValidationFailed
from core.time import iso_z
from segmentation.presentation import describe_rule

from ..features import build_features
from ..learning import (
    HOLDOUT_FOLDS,
    MARGIN,
    RANDOM_STATE,
    design_from_table,
    holdout_scores,
    label_frequency,
    learn_rule,
    rule_document,
    scores,
    verdict,
)
from ..models import DiscoveryKind, DiscoveryRun
from .common import (
    Progress,
    check_constant,
    check_population,
    clean_npis,
    engine_selection,
    list_ids,
    no_progress,
    npis_sha256,
    population_ids,
    population_of,
    resolve_as_of,
    sample_population,
    sample_rows,
    save_run,
    valid_rule,
)

DEFAULT_MAX_CONDITIONS = 4
MAX_CONDITIONS_RANGE = (1, 8)
# Rows the tree learns from; above it, a stratified sample with weights (docs/discovery.md).
LEARN_ROWS = 40_000
TOP_FEATURES = 10
METHOD = "decision_tree"


def check_max_conditions(max_conditions: Any) -> int:
    lo, hi = MAX_CONDITIONS_RANGE
    if max_conditions is None:
        return DEFAULT_MAX_CONDITIONS
    if isinstance(max_conditions, bool) or not isinstance(max_conditions, int):
        raise ValidationFailed(f"must be an integer from {lo} to {hi}", path="max_conditions")
    if not lo <= max_conditions <= hi:
        raise ValidationFailed(
            f"{max_conditions} is out of range; choose {lo} to {hi} conditions",
            path="max_conditions",
        )
    return max_conditions


def check_ignore_unknown(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationFailed("must be true or false", path="ignore_unknown")
    return value


def check_describe(
    *,
    user,
    npis: Any,
    parent: str | None = None,
    max_conditions: Any = None,
    ignore_unknown: Any = None,
) -> None:
    """Every check of the request that needs no learning (the API runs it before queueing)."""
    require(user, "run_discovery")
    check_max_conditions(max_conditions)
    ignore = check_ignore_unknown(ignore_unknown)
    distinct = clean_npis(npis)
    population = population_of(parent)
    check_population(population)
    list_ids(distinct, population, ignore_unknown=ignore)


def describe_list(
    *,
    user,
    npis: Any,
    as_of: dt.datetime | None = None,
    parent: str | None = None,
    max_conditions: Any = None,
    ignore_unknown: Any = None,
    progress: Progress = no_progress,
) -> DiscoveryRun:
    """Learn a rule describing ``npis`` within the population; store and audit the run.

    Raises ValidationFailed (400) for bad input: see docs/discovery.md.
    """
    require(user, "run_discovery")
    max_conditions = check_max_conditions(max_conditions)
    ignore = check_ignore_unknown(ignore_unknown)
    distinct = clean_npis(npis)
    as_of = resolve_as_of(as_of)
    population = population_of(parent)
    size = check_population(population)
    match = list_ids(distinct, population, ignore_unknown=ignore)
    ids, list_sql = match.ids, match.subquery
    if len(ids) >= size:
        raise ValidationFailed(
            "the list holds the whole population, so nothing sets it apart; "
            "give a shorter list or a wider population",
            path="npis",
        )
    progress(0.05)
    # Large populations: the tree learns from every list customer and a weighted
    # sample of the others, so features are built for that sample only.
    everyone = population_ids(population)
    y_all = np.isin(everyone, ids)
    rows, weights = sample_rows(y_all, limit=LEARN_ROWS, seed=RANDOM_STATE)
    learners = population.customers
    if len(rows) < len(everyone):
        learners = sample_population(everyone[rows])
    table = build_features(population=learners, as_of=as_of)
    check_constant(table)
    progress(0.35)
    design = design_from_table(table)
    y = np.isin(table.ids, ids)
    c = label_frequency(design, y, weights, max_conditions=max_conditions)
    learned = learn_rule(design, y, weights, max_conditions=max_conditions, c=c)
    rule = rule_document(design, learned.paths)
    valid_rule(rule)
    progress(0.55)

    selection = engine_selection(rule, as_of=as_of, population=population)
    selected = selection.count()
    hits = selection.filter(pk__in=list_sql).count()
    metrics = scores(hits, selected - hits, len(ids) - hits)
    progress(0.65)
    holdout = holdout_scores(design, y, weights, max_conditions=max_conditions, c=c)
    progress(0.95)
    share = len(ids) / size

    total = sum(v for _, v in learned.importances) or 1.0
    result = {
        "verdict": verdict(holdout, share),
        "entry_rule": rule,
        "plain_english": describe_rule(rule),
        "selected": selected,
        "metrics": metrics.as_dict(),
        "holdout": holdout.as_dict(),
        "ignored": match.ignored,
        "features": [
            {"name": name, "importance": round(v / total, 4)}
            for name, v in learned.importances[:TOP_FEATURES]
        ],
        "model": {
            "method": METHOD,
            "library_version": f"scikit-learn {sklearn.__version__}",
            "as_of": iso_z(as_of),
            "population": size,
            "positives": len(ids),
            "max_conditions": max_conditions,
            "random_state": RANDOM_STATE,
            "class_weight": "balanced",
            "holdout_folds": HOLDOUT_FOLDS,
            "learned_on": int(len(rows)),
            "conditions": learned.conditions(),
            "positive_unlabeled": True,
            "label_frequency": round(c, 4),
            "margin": MARGIN,
            "list_share": round(share, 6),
        },
    }
    run = save_run(
        user=user,
        scope=population,
        result=result,
        audit={
            "list_size": len(distinct),
            "npis_sha256": npis_sha256(distinct),
            "entry_rule": rule,
            "metrics": result["metrics"],
            "verdict": result["verdict"],
            "ignored": len(match.ignored),
        },
        kind=DiscoveryKind.DESCRIBE,
        as_of=as_of,
        method=METHOD,
        population=size,
        positives=len(ids),
        list_size=len(distinct),
        npis_sha256=npis_sha256(distinct),
        request={
            "max_conditions": max_conditions,
            "parent": population.parent,
            "ignore_unknown": ignore,
        },
    )
    progress(1.0)
    return run
