"""Pure learning code for discovery: data in, dataclasses out (docs/discovery.md).

No database, HTTP or Celery here. The services build a :class:`Design` from
the feature table, call these functions, and evaluate the resulting rules
with the segment engine.

The rule learner
----------------
A list is usually a *sample* of a group, so customers not on it are
unlabeled, not negatives (positive-unlabeled learning). The learner:

1. estimates the label frequency ``c`` (the share of the group the list
   holds) as Elkan & Noto (2008) do: the mean, over list customers held out
   of k folds, of the list share of the tree leaf they fall in
   (:func:`label_frequency`);
2. grows a shallow decision tree with balanced class weights ("in the list"
   versus the rest) whose leaves become candidate paths of literals, one
   literal per feature (a numeric interval, or a set of category values);
3. keeps the prefix of leaves (by precision) with the best PU F1
   (:func:`design.pu_f1`: recall on the list, precision against the group as
   the list share of the selection over ``c``, at most 1), so cutting out
   unlisted look-alikes earns nothing;
4. prunes like RIPPER's reduced-error pruning, backwards: a literal, a
   whole path or one value of an ``in`` list stays only when removing it
   lowers the PU F1 by more than ``MARGIN``; a bound is widened (to the next
   observed value outward) when that raises it, a value is added to a list
   only when that raises it by more than ``MARGIN``; among equal scores the
   shorter rule wins; then the cheapest removals until ``max_conditions``;
5. writes each literal as the rule condition its feature stands for:
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
    _Masks,
    literal_conditions,
    pu_score,
    rule_conditions,
    rule_size,
)

# A condition (or path, or value of a list) stays only when it adds more than this to
# the PU F1 (docs/discovery.md, "How the rule is found").
MARGIN = 0.01
# Iterations of the pruning loop at most (each removes, widens or merges once).
MAX_STEPS = 200


def _category_ranks(d: Design, rows: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Per category, each level's rank by the share of list customers (CART's grouping)."""
    ranks: list = []
    for k in range(d.cat_codes.shape[1]):
        codes = d.cat_codes[rows, k]
        n_levels = len(d.cat_levels[k])
        total = np.bincount(codes, minlength=n_levels).astype(float)
        pos = np.bincount(codes[y], minlength=n_levels).astype(float)
        share = np.where(total > 0, pos / np.maximum(total, 1), -1.0)
        order = sorted(range(n_levels), key=lambda i: (share[i], d.cat_levels[k][i]))
        rank = np.empty(n_levels, dtype=np.int32)
        rank[order] = np.arange(n_levels)
        ranks.append(rank)
    return ranks


def _tree_matrix(
    d: Design, rows: np.ndarray, y: np.ndarray, ranks: list | None = None
) -> tuple[np.ndarray, list]:
    """Numeric columns (missing as a sentinel below the minimum), then ranked categories.

    ``ranks`` (of the rows a tree learned from) places other rows in that tree.
    """
    p, c = d.x.shape[1], d.cat_codes.shape[1]
    out = np.empty((len(rows), p + c), dtype=np.float32, order="F")
    lows = d.__dict__.get("_lows")
    if lows is None:
        lows = [float(v[0]) if len(v) else 0.0 for v in (_observed(d, j) for j in range(p))]
        d.__dict__["_lows"] = lows
    for j in range(p):
        v = d.x[rows, j]
        out[:, j] = np.where(np.isnan(v), lows[j] - 1.0, v)
    if ranks is None:
        ranks = _category_ranks(d, rows, y)
    for k in range(c):
        out[:, p + k] = ranks[k][d.cat_codes[rows, k]]
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


def _one_difference(a: Path, b: Path) -> tuple[Literal, Literal] | None:
    """The one literal each of two equally long paths has that the other lacks, if so."""
    if len(a) != len(b):
        return None
    rest_a = [lit for lit in a if lit not in b]
    rest_b = [lit for lit in b if lit not in a]
    if len(rest_a) != 1 or len(rest_b) != 1:
        return None
    return rest_a[0], rest_b[0]


def _merge_pair(a: Path, b: Path) -> Path | None:
    pair = _one_difference(a, b)
    if pair is None:
        return None
    la, lb = pair
    if not (la.is_cat and lb.is_cat and la.col == lb.col):
        return None
    union = Literal(col=la.col, is_cat=True, levels=la.levels | lb.levels)
    return tuple(union if lit == la else lit for lit in a)


def _normal(d: Design, lit: Literal) -> Literal:
    """One literal per meaning: bounds beyond every observed value and "or missing" on a
    column without missing values dropped, so equal conditions compare equal."""
    if lit.is_cat or lit.lo == math.inf:
        return lit
    observed = _observed(d, lit.col)
    lo, hi, missing = lit.lo, lit.hi, lit.missing and bool(d.has_missing[lit.col])
    if len(observed) and lo is not None and lo <= observed[0]:
        lo = None
    if len(observed) and hi is not None and hi >= observed[-1]:
        hi = None
    return Literal(col=lit.col, is_cat=False, lo=lo, hi=hi, missing=missing)


def _tidy(d: Design, paths: list[Path]) -> list[Path]:
    """Literals in one form each, merged category paths, no duplicate paths, no literal
    that is always true."""
    normal = [[_normal(d, lit) for lit in p] for p in paths]
    paths = [tuple(lit for lit in p if literal_conditions(d, lit)) or tuple(p[:1]) for p in normal]
    return _merge_category_paths(list(dict.fromkeys(paths)))


def _simplify(
    d: Design,
    paths: list[Path],
    score,
    max_conditions: int,
    margin: float = MARGIN,
) -> list[Path]:
    """Backward pruning and widening by ``score`` (see the module), then the budget.

    Removals are measured against the best score seen, not the last one, so
    that small losses cannot add up: the rule ends within ``margin`` of the
    best rule the search met.
    """
    paths = _tidy(d, paths)
    current = best_seen = score(paths)
    for _ in range(MAX_STEPS):
        size = rule_size(d, paths)
        # The removal that costs least, if the rule stays within the margin of the best:
        # a condition that adds less than that is not worth saying. Equal scores: shorter.
        # A removal that costs nothing at all (a redundant condition) is taken at once.
        best = None
        for candidate in _removals(d, paths):
            cand_size = rule_size(d, candidate)
            if cand_size >= size:
                continue
            key = (score(candidate), tuple(-v for v in cand_size))
            if key[0] >= best_seen - margin and (best is None or key > best[0]):
                best = (key, candidate)
                if key[0] >= current - EPS:
                    break
        if best is not None:
            paths = _tidy(d, best[1])
            current = best[0][0]
            continue
        # Widening: a bound moved outward when that raises the score (the list left out
        # part of the group, so the tree's bounds are too tight); a value added to a
        # list only when it raises the score by more than the margin, unless the list
        # gets shorter (a "not in" list).
        best = None
        for candidate in _widenings(d, paths):
            value = score(candidate)
            longer = rule_size(d, candidate) > size
            if value > current + (margin if longer else EPS) and (
                best is None or value > best[0] + EPS
            ):
                best = (value, candidate)
        if best is None:
            break
        current, paths = best[0], _tidy(d, best[1])
        best_seen = max(best_seen, current)
    # Respect the budget: remove what costs least.
    while rule_conditions(d, paths) > max_conditions:
        best = None
        for candidate in _removals(d, paths):
            if rule_conditions(d, candidate) >= rule_conditions(d, paths):
                continue
            key = (score(candidate), tuple(-v for v in rule_size(d, candidate)))
            if best is None or key > best[0]:
                best = (key, candidate)
        if best is None:
            break
        paths = _tidy(d, best[1])
    return [p for p in paths if p]


def _widenings(d: Design, paths: list[Path]):
    """Every rule with one literal widened by one step: one more category level, or a
    numeric bound moved to the next observed value outward."""
    for i, path in enumerate(paths):
        for lit in path:
            for wider in _wider(d, lit):
                new_path = tuple(wider if x == lit else x for x in path)
                yield paths[:i] + [new_path] + paths[i + 1 :]


def _observed(d: Design, col: int) -> np.ndarray:
    """Sorted distinct non-missing values of a numeric column (cached on the design)."""
    cache = d.__dict__.setdefault("_observed", {})
    if col not in cache:
        v = d.x[:, col]
        cache[col] = np.unique(v[~np.isnan(v)])
    return cache[col]


# Numeric bounds a widening tries: the next observed values outward, then spaced ones.
WIDEN_NEAR, WIDEN_FAR = 3, 12


def _outward(values: np.ndarray) -> list[float]:
    """Candidate bounds among ``values`` (nearest first): the nearest few, then quantiles."""
    near = list(values[:WIDEN_NEAR])
    rest = values[WIDEN_NEAR:]
    if len(rest) > WIDEN_FAR:
        rest = rest[np.unique(np.linspace(0, len(rest) - 1, WIDEN_FAR).round().astype(int))]
    return [float(v) for v in [*near, *rest]]


def _wider(d: Design, lit: Literal):
    if lit.is_cat:
        for level in range(len(d.cat_levels[lit.col])):
            if level not in lit.levels:
                yield Literal(col=lit.col, is_cat=True, levels=lit.levels | {level})
        return
    if lit.lo == math.inf:
        return
    observed = _observed(d, lit.col)
    if lit.lo is not None:
        for v in _outward(observed[observed < lit.lo][::-1]):
            yield Literal(lit.col, False, v, lit.hi, lit.missing)
    if lit.hi is not None:
        for v in _outward(observed[observed > lit.hi]):
            yield Literal(lit.col, False, lit.lo, v, lit.missing)


def _removals(d: Design, paths: list[Path]):
    """Every rule with one literal, one whole path, or one value of a list removed."""
    for i, path in enumerate(paths):
        for lit in path:
            if len(path) > 1:
                yield paths[:i] + [tuple(x for x in path if x != lit)] + paths[i + 1 :]
            if lit.is_cat and len(lit.levels) > 1:
                for level in sorted(lit.levels):
                    narrower = Literal(col=lit.col, is_cat=True, levels=lit.levels - {level})
                    new_path = tuple(narrower if x == lit else x for x in path)
                    yield paths[:i] + [new_path] + paths[i + 1 :]
        if len(paths) > 1:
            yield paths[:i] + paths[i + 1 :]
    # Two paths that differ only in one numeric interval: one path with their hull.
    for a in range(len(paths)):
        for b in range(a + 1, len(paths)):
            hull = _hull_pair(paths[a], paths[b])
            if hull is not None:
                yield [*paths[:a], hull, *paths[a + 1 : b], *paths[b + 1 :]]


def _hull_pair(a: Path, b: Path) -> Path | None:
    pair = _one_difference(a, b)
    if pair is None:
        return None
    la, lb = pair
    if la.is_cat or lb.is_cat or la.col != lb.col or math.inf in (la.lo, lb.lo):
        return None
    lo = None if la.lo is None or lb.lo is None else min(la.lo, lb.lo)
    hi = None if la.hi is None or lb.hi is None else max(la.hi, lb.hi)
    hull = Literal(col=la.col, is_cat=False, lo=lo, hi=hi, missing=la.missing or lb.missing)
    return tuple(hull if lit == la else lit for lit in a)


# --- the rule learner ------------------------------------------------------------------


@dataclass
class LearnedRule:
    paths: list[Path]
    importances: list[tuple[str, float]]
    design: Design

    def conditions(self) -> int:
        return rule_conditions(self.design, self.paths)


def _tree(d: Design, max_conditions: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(
        max_depth=min(max(max_conditions + 1, 3), 6),
        min_samples_leaf=3,
        random_state=RANDOM_STATE,
    )


def _fit_tree(d: Design, rows: np.ndarray, y: np.ndarray, w: np.ndarray, max_conditions: int):
    """The balanced tree of ``rows`` (list versus the rest); its matrix and category ranks."""
    yr, wr = y[rows], w[rows]
    positives, negatives = float(wr[yr].sum()), float(wr[~yr].sum())
    matrix, ranks = _tree_matrix(d, rows, yr)
    # Balanced class weights over the (weighted) population.
    sample_weight = np.where(yr, 0.5 / positives, 0.5 / negatives) * wr * len(rows)
    tree = _tree(d, max_conditions)
    tree.fit(matrix, yr, sample_weight=sample_weight)
    return tree, matrix, ranks


def label_frequency(
    d: Design,
    y: np.ndarray,
    w: np.ndarray,
    *,
    max_conditions: int,
    rows: np.ndarray | None = None,
    folds: int = HOLDOUT_FOLDS,
) -> float:
    """The share ``c`` of the group behind a list that the list holds (Elkan & Noto 2008).

    Their estimator e1: a classifier of "on the list" (here the tree's leaves,
    each with its unweighted list share) learned on k-1 folds; ``c`` is the
    mean of its estimate over the list customers of the held-out fold. It
    lies between the list's share of the population (no pattern) and 1 (the
    list is the whole group).
    """
    rows = np.arange(d.n) if rows is None else rows
    yr, wr = y[rows], w[rows]
    share = float(wr[yr].sum() / wr.sum()) if wr.sum() > 0 else 0.0
    if yr.sum() < folds or (~yr).sum() < folds:
        return 1.0
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    total = count = 0.0
    for train, test in splitter.split(np.zeros(len(rows)), yr):
        tree, matrix, ranks = _fit_tree(d, rows[train], y, w, max_conditions)
        leaves = tree.apply(matrix)
        n_nodes = tree.tree_.node_count
        listed = np.bincount(leaves, weights=wr[train] * yr[train], minlength=n_nodes)
        everyone = np.bincount(leaves, weights=wr[train], minlength=n_nodes)
        leaf_share = listed / np.maximum(everyone, EPS)
        held = rows[test][yr[test]]
        held_matrix, _ = _tree_matrix(d, held, y[held], ranks)
        total += float(leaf_share[tree.apply(held_matrix)].sum())
        count += len(held)
    c = total / count if count else 1.0
    return float(min(1.0, max(c, share, EPS)))


def learn_rule(
    d: Design,
    y: np.ndarray,
    w: np.ndarray,
    *,
    max_conditions: int,
    rows: np.ndarray | None = None,
    c: float = 1.0,
    margin: float = MARGIN,
) -> LearnedRule:
    """Learn a rule of at most ``max_conditions`` conditions telling ``y`` apart (see the module).

    ``y`` (bool) and ``w`` (row weights: 1, or the inverse sampling rate of
    sampled negatives) are indexed like the design's rows; ``rows`` restricts
    learning to those positions (a cross-validation fold). ``c`` is the label
    frequency (:func:`label_frequency`; 1 when ``y`` is the whole group).
    """
    rows = np.arange(d.n) if rows is None else rows
    yr, wr = y[rows], w[rows]
    positives = float(wr[yr].sum())
    negatives = float(wr[~yr].sum())
    names = [*d.names, *d.cat_paths]
    if positives <= 0 or negatives <= 0:
        return LearnedRule(paths=[], importances=[], design=d)
    tree, _matrix, ranks = _fit_tree(d, rows, y, w, max_conditions)
    importances = sorted(
        ((names[i], float(v)) for i, v in enumerate(tree.feature_importances_) if v > 0),
        key=lambda item: (-item[1], item[0]),
    )
    masks = _Masks(d, rows)
    listed, weight = (wr * yr).astype(np.float64), wr.astype(np.float64)

    def score(candidate: list[Path]) -> float:
        m = masks.rule(candidate)
        # Boolean indexing: a mixed-type dot product is a hundred times slower.
        return pu_score(float(listed[m].sum()), float(weight[m].sum()), positives, c)

    leaves = _leaf_paths(tree, d, rows, ranks)
    scored = []
    for path in leaves:
        m = masks.path(path)
        tp = float(wr[m & yr].sum())
        fp = float(wr[m & ~yr].sum())
        if tp > 0:
            scored.append((tp / (tp + fp), tp, path))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    best_f1, best_k = 0.0, 0
    for k in range(1, len(scored) + 1):
        value = score([path for *_, path in scored[:k]])
        if value > best_f1 + EPS:
            best_f1, best_k = value, k
    paths = [path for *_, path in scored[:best_k]]
    paths = _simplify(d, paths, score, max_conditions, margin)
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
    d: Design,
    y: np.ndarray,
    w: np.ndarray,
    *,
    max_conditions: int,
    folds: int = HOLDOUT_FOLDS,
    c: float = 1.0,
) -> Scores:
    """Pooled precision/recall/F1 of rules learned on k-1 folds, measured on the held-out fold."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    tp = fp = fn = 0.0
    for train, test in splitter.split(np.zeros(d.n), y):
        learned = learn_rule(d, y, w, max_conditions=max_conditions, rows=train, c=c)
        m = _Masks(d, test).rule(learned.paths)
        yt, wt = y[test], w[test]
        tp += float(wt[m & yt].sum())
        fp += float(wt[m & ~yt].sum())
        fn += float(wt[~m & yt].sum())
    return scores(tp, fp, fn)


VERDICTS = ("describes", "partly", "no_pattern")


def verdict(holdout: Scores, share: float) -> str:
    """``describes`` / ``partly`` / ``no_pattern`` from cross-validated figures (docs/discovery.md).

    ``share`` is the list's share s of the population: "describes" needs
    recall >= 0.8 and precision >= max(0.5, 2s); "partly" precision >= 2s and
    recall >= 0.3; anything else (a random list, a rule selecting nearly
    everyone) is "no_pattern".
    """
    if holdout.recall >= 0.8 and holdout.precision >= max(0.5, 2 * share):
        return "describes"
    if holdout.precision >= 2 * share and holdout.recall >= 0.3:
        return "partly"
    return "no_pattern"


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
        return [{"field": path, "op": "is_set"}] if "" in levels else []
    if len(values) == 1:
        return [{"field": path, "op": "eq", "value": _typed(path, values[0])}]
    return [{"field": path, "op": "in", "value": [_typed(path, v) for v in values]}]


def rule_document(d: Design, paths: list[Path]) -> dict:
    """``{"any": [{"all": [...]}, ...]}``, the shape discovery answers (docs/discovery.md)."""
    return {"any": [{"all": [c for lit in path for c in literal_rule(d, lit)]} for path in paths]}


# --- personas ----------------------------------------------------------------------------
