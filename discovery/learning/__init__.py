"""Pure learning code for discovery: data in, dataclasses out (docs/discovery.md).

* ``design``: the learner's view of the feature table (matrix, literals, masks);
* ``rules``: the rule learner (tree, simplification, the rule document, scores);
* ``clusters``: personas (standardise, reduce, k-means) and differentiators.

No database, HTTP or Celery here; the services evaluate the rules with the
segment engine.
"""

from .clusters import Clustering, Difference, cluster, standardize, standardized_differences
from .design import HOLDOUT_FOLDS, RANDOM_STATE, Design, Literal, design_from_table
from .rules import LearnedRule, Scores, holdout_scores, learn_rule, rule_document, scores

__all__ = [
    "HOLDOUT_FOLDS",
    "RANDOM_STATE",
    "Clustering",
    "Design",
    "Difference",
    "LearnedRule",
    "Literal",
    "Scores",
    "cluster",
    "design_from_table",
    "holdout_scores",
    "learn_rule",
    "rule_document",
    "scores",
    "standardize",
    "standardized_differences",
]
