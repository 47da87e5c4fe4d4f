"""Pure learning code for discovery: data in, dataclasses out (docs/discovery.md).

No database, HTTP or Celery here. The services build a :class:`Design` from
the feature table, call these functions, and evaluate the resulting rules
with the segment engine.

The rule learner
----------------
A shallow decision tree with balanced class weights learns "in the list"
versus "the rest of the population". Its leaves become candidate paths of
literals, one literal per feature (a numeric interval, or a set of category
values); then:

1. leaves are taken in order of precision and the prefix with the best F1
   against the list is kept (the F1-optimal choice among disjoint leaves);
2. paths that differ only in the values of one category are merged into one
   ``in`` list; a literal (or path) whose removal does not lower F1 is
   removed; while the rule has more than ``max_conditions`` conditions, the
   single literal or path whose removal costs least F1 is removed;
3. each literal is written as the rule condition its feature stands for:
   thresholds snap to observed values (so counts are integers), category
   sets become ``eq``/``in`` (or ``ne``/``not_in`` when missing values
   belong to the set), a numeric interval becomes ``gte``/``lte``/``between``.

Vocabulary fields enter the tree as one column each, their values ordered by
the share of list customers (the classic CART grouping for a two-class
target), so one split is one ``in`` list instead of one split per value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from .design import (
    EPS,
    HOLDOUT_FOLDS,
    RANDOM_STATE,
    Design,
    Literal,
    Path,
    _f1,
    _Masks,
    rule_conditions,
)


def _tree_matrix(d: Design, rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list]:
    """Numeric columns (missing as a sentinel below the minimum), then ranked categories."""
    p, c = d.x.shape[1], d.cat_codes.shape[1]
    out = np.empty((len(rows), p + c), dtype=np.float32, order="F")
    ranks: list = []
    for j in range(p):
        v = d.x[rows, j]
        nan = np.isnan(v)
        low = float(np.nanmin(v)) if (~nan).any() else 0.0
        out[:, j] = np.where(nan, low - 1.0, v)
    for k in range(c):
        codes = d.cat_codes[rows, k]
        n_levels = len(d.cat_levels[k])
        total = np.bincount(codes, minlength=n_levels).astype(float)
        pos = np.bincount(codes[y], minlength=n_levels).astype(float)
        share = np.where(total > 0, pos / np.maximum(total, 1), -1.0)
        order = sorted(range(n_levels), key=lambda i: (share[i], d.cat_levels[k][i]))
        rank = np.empty(n_levels, dtype=np.int32)
        rank[order] = np.arange(n_levels)
        ranks.append(rank)
        out[:, p + k] = rank[codes]
    return out, ranks


def _leaf_paths(
    tree: DecisionTreeClassifier, d: Design, rows: np.ndarray, ranks: list
) -> list[Path]:
    t = tree.tree_
    p = d.x.shape[1]
    observed = {}

    def values(j: int) -> np.ndarray:
        if j not in observed:
            v = d.x[rows, j]
            observed[j] = np.unique(v[~np.isnan(v)])
        return observed[j]

    paths: list[Path] = []
    stack: list[tuple[int, list[tuple[int, bool, float]]]] = [(0, [])]
    while stack:
        node, constraints = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left == right:  # a leaf
            path = _literals(d, constraints, values, ranks, p)
            if path is not None:
                paths.append(path)
            continue
        j, thr = int(t.feature[node]), float(t.threshold[node])
        stack.append((right, [*constraints, (j, False, thr)]))
        stack.append((left, [*constraints, (j, True, thr)]))
    return paths


def _literals(d: Design, constraints, values, ranks, p: int) -> Path | None:
    numeric: dict[int, list] = {}
    cats: dict[int, set[int]] = {}
    for j, is_left, thr in constraints:
        if j >= p:
            k = j - p
            rank = ranks[k]
            chosen = {i for i in range(len(rank)) if (rank[i] <= thr) == is_left}
            cats[k] = cats.get(k, set(range(len(rank)))) & chosen
            continue
        lo, hi, missing = numeric.get(j, [None, None, True])
        obs = values(j)
        if is_left:
            below = obs[obs <= thr]
            new_hi = float(below[-1]) if len(below) else -math.inf
            hi = new_hi if hi is None else min(hi, new_hi)
        else:
            above = obs[obs > thr]
            new_lo = float(above[0]) if len(above) else math.inf
            lo = new_lo if lo is None else max(lo, new_lo)
            missing = False
        numeric[j] = [lo, hi, missing]
    literals: list[Literal] = []
    for j, (lo, hi, missing) in numeric.items():
        empty = (lo is not None and hi is not None and lo > hi) or hi == -math.inf
        empty = empty or lo == math.inf
        if empty and not missing:
            return None
        if empty:  # only the missing values: an interval no number is in
            literals.append(Literal(col=j, is_cat=False, lo=math.inf, hi=None, missing=True))
        else:
            literals.append(Literal(col=j, is_cat=False, lo=lo, hi=hi, missing=missing))
    for k, levels in cats.items():
        if not levels:
            return None
        literals.append(Literal(col=k, is_cat=True, levels=frozenset(levels)))
    return tuple(literals)


# --- simplification -------------------------------------------------------------------


def _merge_category_paths(paths: list[Path]) -> list[Path]:
    """Paths identical but for the levels of one category become one path with their union."""
    changed = True
    paths = list(paths)
    while changed:
        changed = False
        for a in range(len(paths)):
            for b in range(a + 1, len(paths)):
                merged = _merge_pair(paths[a], paths[b])
                if merged is not None:
                    paths[a] = merged
                    del paths[b]
                    changed = True
                    break
            if changed:
                break
    return paths


def _merge_pair(a: Path, b: Path) -> Path | None:
    if len(a) != len(b):
        return None
    rest_a = [lit for lit in a if lit not in b]
    rest_b = [lit for lit in b if lit not in a]
    if len(rest_a) != 1 or len(rest_b) != 1:
        return None
    la, lb = rest_a[0], rest_b[0]
    if not (la.is_cat and lb.is_cat and la.col == lb.col):
        return None
    union = Literal(col=la.col, is_cat=True, levels=la.levels | lb.levels)
    return tuple(union if lit == la else lit for lit in a)


def _simplify(
    d: Design,
    paths: list[Path],
    masks: _Masks,
    y: np.ndarray,
    w: np.ndarray,
    positives: float,
    max_conditions: int,
) -> list[Path]:
    def f1(candidate: list[Path]) -> float:
        return _f1(masks.rule(candidate), y, w, positives)

    paths = _merge_category_paths(paths)
    current = f1(paths)
    # Remove literals and paths that do not help (redundant or contradicted by another
    # path), and widen literals while that helps: the list is a sample of the group, so
    # the customers it left out look like non-members to the tree, which then draws its
    # boundaries too tight (decile >= 8 where the group is decile >= 7).
    improved = True
    while improved:
        improved = False
        for candidate in _removals(paths):
            score = f1(candidate)
            if score >= current - EPS:
                paths, current, improved = candidate, score, True
                break
        if improved:
            continue
        best = None
        for candidate in _widenings(d, paths, masks):
            score = f1(candidate)
            if score >= current - EPS and (best is None or score > best[0] + EPS):
                best = (score, candidate)
        if best is not None:
            current, paths = best
            paths = _merge_category_paths(paths)
            improved = True
    # Respect the budget: remove what costs least.
    while rule_conditions(d, paths) > max_conditions:
        best: tuple[float, int, list[Path]] | None = None
        for candidate in _removals(paths):
            key = (f1(candidate), -rule_conditions(d, candidate))
            if best is None or key > best[:2]:
                best = (*key, candidate)
        if best is None:
            break
        paths = best[2]
    return [p for p in paths if p is not None]


def _widenings(d: Design, paths: list[Path], masks: _Masks):
    """Every rule with one literal widened by one step: one more category level, or a
    numeric bound moved to the next observed value outward."""
    for i, path in enumerate(paths):
        for lit in path:
            for wider in _wider(d, lit, masks):
                new_path = tuple(wider if x == lit else x for x in path)
                yield paths[:i] + [new_path] + paths[i + 1 :]


def _wider(d: Design, lit: Literal, masks: _Masks):
    if lit.is_cat:
        for level in range(len(d.cat_levels[lit.col])):
            if level not in lit.levels:
                yield Literal(col=lit.col, is_cat=True, levels=lit.levels | {level})
        return
    if lit.lo == math.inf:
        return
    observed = masks.observed(lit.col)
    if lit.lo is not None:
        below = observed[observed < lit.lo]
        if len(below):
            yield Literal(lit.col, False, float(below[-1]), lit.hi, lit.missing)
    if lit.hi is not None:
        above = observed[observed > lit.hi]
        if len(above):
            yield Literal(lit.col, False, lit.lo, float(above[0]), lit.missing)


def _removals(paths: list[Path]):
    """Every rule with one literal, or one whole path, removed."""
    for i, path in enumerate(paths):
        for lit in path:
            if len(path) > 1:
                yield paths[:i] + [tuple(x for x in path if x != lit)] + paths[i + 1 :]
        yield paths[:i] + paths[i + 1 :]


# --- the rule learner ------------------------------------------------------------------


@dataclass
class LearnedRule:
    paths: list[Path]
    importances: list[tuple[str, float]]
    design: Design

    def conditions(self) -> int:
        return rule_conditions(self.design, self.paths)


def learn_rule(
    d: Design,
    y: np.ndarray,
    w: np.ndarray,
    *,
    max_conditions: int,
    rows: np.ndarray | None = None,
) -> LearnedRule:
    """Learn a rule of at most ``max_conditions`` conditions telling ``y`` apart (see the module).

    ``y`` (bool) and ``w`` (row weights: 1, or the inverse sampling rate of
    sampled negatives) are indexed like the design's rows; ``rows`` restricts
    learning to those positions (a cross-validation fold).
    """
    rows = np.arange(d.n) if rows is None else rows
    yr, wr = y[rows], w[rows]
    positives = float(wr[yr].sum())
    negatives = float(wr[~yr].sum())
    names = [*d.names, *d.cat_paths]
    if positives <= 0 or negatives <= 0:
        return LearnedRule(paths=[], importances=[], design=d)
    matrix, ranks = _tree_matrix(d, rows, yr)
    # Balanced class weights over the (weighted) population.
    sample_weight = np.where(yr, 0.5 / positives, 0.5 / negatives) * wr * len(rows)
    tree = DecisionTreeClassifier(
        max_depth=min(max(max_conditions + 1, 3), 6),
        min_samples_leaf=3,
        random_state=RANDOM_STATE,
    )
    tree.fit(matrix, yr, sample_weight=sample_weight)
    importances = sorted(
        ((names[i], float(v)) for i, v in enumerate(tree.feature_importances_) if v > 0),
        key=lambda item: (-item[1], item[0]),
    )
    masks = _Masks(d, rows)
    leaves = _leaf_paths(tree, d, rows, ranks)
    scored = []
    for path in leaves:
        m = masks.path(path)
        tp = float(wr[m & yr].sum())
        fp = float(wr[m & ~yr].sum())
        if tp > 0:
            scored.append((tp / (tp + fp), tp, fp, path))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    best_f1, best_k, tp, fp = 0.0, 0, 0.0, 0.0
    for k, (_, leaf_tp, leaf_fp, _path) in enumerate(scored, start=1):
        tp += leaf_tp
        fp += leaf_fp
        score = 2 * tp / (2 * tp + fp + (positives - tp))
        if score > best_f1 + EPS:
            best_f1, best_k = score, k
    paths = [path for *_, path in scored[:best_k]]
    paths = _simplify(d, paths, masks, yr, wr, positives, max_conditions)
    return LearnedRule(paths=paths, importances=importances, design=d)


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def scores(tp: float, fp: float, fn: float) -> Scores:
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4))


def holdout_scores(
    d: Design, y: np.ndarray, w: np.ndarray, *, max_conditions: int, folds: int = HOLDOUT_FOLDS
) -> Scores:
    """Pooled precision/recall/F1 of rules learned on k-1 folds, measured on the held-out fold."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    tp = fp = fn = 0.0
    for train, test in splitter.split(np.zeros(d.n), y):
        learned = learn_rule(d, y, w, max_conditions=max_conditions, rows=train)
        m = _Masks(d, test).rule(learned.paths)
        yt, wt = y[test], w[test]
        tp += float(wt[m & yt].sum())
        fp += float(wt[m & ~yt].sum())
        fn += float(wt[~m & yt].sum())
    return scores(tp, fp, fn)


# --- literals as rule conditions ------------------------------------------------------------


def _number(value: float, integer: bool) -> int | float:
    if integer or float(value).is_integer():
        return int(round(value))
    return float(value)


def _exact_bound(d: Design, j: int, bound: float, lower: bool) -> float:
    """The float64 value behind a float32 bound (attr. decimals), keeping the same partition."""
    if j not in d.exact:
        return bound
    v32, v64 = d.x[:, j], d.exact[j]
    side = v32 >= bound if lower else v32 <= bound
    side &= ~np.isnan(v64)
    if not side.any():
        return bound
    return float(v64[side].min() if lower else v64[side].max())


def literal_rule(d: Design, lit: Literal) -> list[dict]:
    """The rule conditions (docs/rules.md) a literal stands for; [] when it is always true."""
    if lit.is_cat:
        return _category_rule(d, lit)
    spec = d.specs[lit.col]
    if spec.kind in ("count", "sum"):
        lo = _number(lit.lo, True) if lit.lo is not None and lit.lo > 0 else None
        hi = _number(lit.hi, True) if lit.hi is not None else None
        if lo is not None and hi is not None and lo == hi:
            return [spec.condition("eq", lo)]
        out = []
        if lo is not None:
            out.append(spec.condition("gte", lo))
        if hi is not None:
            out.append(spec.condition("lte", hi))
        return out
    path = spec.path
    if lit.lo == math.inf:  # only the missing ones
        return [{"field": path, "op": "is_not_set"}]
    lo = None if lit.lo is None else _number(_exact_bound(d, lit.col, lit.lo, True), spec.integer)
    hi = None if lit.hi is None else _number(_exact_bound(d, lit.col, lit.hi, False), spec.integer)
    if lo is not None and hi is not None:
        if lo == hi:
            return [{"field": path, "op": "eq", "value": lo}]
        return [{"field": path, "op": "between", "value": [lo, hi]}]
    if lo is not None:
        return [{"field": path, "op": "gte", "value": lo}]
    if hi is not None:
        if lit.missing and d.has_missing[lit.col]:
            return [{"not": {"field": path, "op": "gt", "value": hi}}]
        return [{"field": path, "op": "lte", "value": hi}]
    if lit.missing:
        return []
    return [{"field": path, "op": "is_set"}]


def _typed(path: str, value: str) -> Any:
    return (value == "true") if path == "email_opt_out" else value


def _category_rule(d: Design, lit: Literal) -> list[dict]:
    path, levels = d.cat_paths[lit.col], d.cat_levels[lit.col]
    chosen = {levels[i] for i in lit.levels}
    present = [v for v in levels if v != ""]
    if "" in chosen:
        others = sorted(v for v in present if v not in chosen)
        if not others:
            return []
        if len(others) == 1:
            return [{"field": path, "op": "ne", "value": _typed(path, others[0])}]
        return [{"field": path, "op": "not_in", "value": [_typed(path, v) for v in others]}]
    values = sorted(chosen)
    if len(values) == len(present):
        return [{"field": path, "op": "is_set"}]
    if len(values) == 1:
        return [{"field": path, "op": "eq", "value": _typed(path, values[0])}]
    return [{"field": path, "op": "in", "value": [_typed(path, v) for v in values]}]


def rule_document(d: Design, paths: list[Path]) -> dict:
    """``{"any": [{"all": [...]}, ...]}``, the shape discovery answers (docs/discovery.md)."""
    return {"any": [{"all": [c for lit in path for c in literal_rule(d, lit)]} for path in paths]}


# --- personas ----------------------------------------------------------------------------
