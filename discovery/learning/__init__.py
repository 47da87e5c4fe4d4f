"""Pure learning code for discovery: data in, dataclasses out (docs/discovery.md).

* ``design``: the learner's view of the feature table (matrix, literals, masks);
* ``rules``: the rule learner (tree, simplification, the rule document, scores);
* ``clusters``: personas (standardise, reduce, k-means) and differentiators.

No database, HTTP or Celery here; the services evaluate the rules with the
segment engine.
"""

from .clusters import (
    NEAR_DUPLICATE,
    Clustering,
    Difference,
    Group,
    cluster,
    group_near_duplicates,
    standardize,
    standardized_differences,
)
from .design import HOLDOUT_FOLDS, RANDOM_STATE, Design, Literal, design_from_table
from .rules import (
    MARGIN,
    VERDICTS,
    LearnedRule,
    Scores,
    holdout_scores,
    label_frequency,
    learn_rule,
    rule_document,
    scores,
    verdict,
)

__all__ = [
    "HOLDOUT_FOLDS",
    "MARGIN",
    "NEAR_DUPLICATE",
    "RANDOM_STATE",
    "VERDICTS",
    "Clustering",
    "Design",
    "Group",
    "Difference",
    "LearnedRule",
    "Literal",
    "Scores",
    "cluster",
    "design_from_table",
    "group_near_duplicates",
    "holdout_scores",
    "label_frequency",
    "learn_rule",
    "rule_document",
    "scores",
    "standardize",
    "standardized_differences",
    "verdict",
]
