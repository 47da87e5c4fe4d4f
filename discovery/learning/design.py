"""The learner's view of a feature table: the design matrix, literals and their masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..table import FeatureSpec, FeatureTable

RANDOM_STATE = 0
HOLDOUT_FOLDS = 3
EPS = 1e-12


# --- the design matrix --------------------------------------------------------


@dataclass
class Design:
    """The learner's view of (some rows of) a feature table."""

    names: list[str]
    specs: list[FeatureSpec]
    x: np.ndarray  # (n, p) float32, NaN = missing
    exact: dict[int, np.ndarray]  # float64 values of non-integer columns
    has_missing: np.ndarray  # (p,) bool: the column has missing values
    cat_paths: list[str]
    cat_levels: list[list[str]]  # per category: its levels ("" = missing)
    cat_codes: np.ndarray  # (n, c) int32 codes into cat_levels

    @property
    def n(self) -> int:
        return self.x.shape[0]


def design_from_table(table: FeatureTable, rows: np.ndarray | None = None) -> Design:
    """A Design over ``rows`` (positions in the table; all rows when None)."""
    names = list(table.numeric.columns)
    frame = table.numeric if rows is None else table.numeric.iloc[rows]
    x = frame.to_numpy(dtype=np.float32, na_value=np.nan) if names else np.zeros((len(frame), 0))
    x = np.asfortranarray(x, dtype=np.float32)  # column-major: learners read by feature
    exact = {
        j: frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        for j, name in enumerate(names)
        if not table.specs[name].integer
    }
    has_missing = np.isnan(x).any(axis=0) if names else np.zeros(0, dtype=bool)
    cat_paths = list(table.categories)
    cat_levels: list[list[str]] = []
    codes = np.zeros((len(frame), len(cat_paths)), dtype=np.int32)
    for c, path in enumerate(cat_paths):
        values = table.categories[path] if rows is None else table.categories[path][rows]
        levels = list(table.category_values[path])
        if (table.categories[path] == "").any():
            levels = [*levels, ""]
        lookup = {v: i for i, v in enumerate(levels)}
        codes[:, c] = pd.Series(values).map(lookup).to_numpy(dtype=np.int32)
        cat_levels.append(levels)
    return Design(
        names=names,
        specs=[table.specs[n] for n in names],
        x=x,
        exact=exact,
        has_missing=has_missing,
        cat_paths=cat_paths,
        cat_levels=cat_levels,
        cat_codes=codes,
    )


# --- literals, paths, rules ------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """One condition on one feature: a numeric interval or a set of category levels."""

    col: int
    is_cat: bool
    lo: float | None = None
    hi: float | None = None
    missing: bool = False
    levels: frozenset[int] = frozenset()


Path = tuple[Literal, ...]


def literal_mask(d: Design, lit: Literal, rows: np.ndarray) -> np.ndarray:
    if lit.is_cat:
        table = np.zeros(len(d.cat_levels[lit.col]), dtype=bool)
        table[list(lit.levels)] = True
        return table[d.cat_codes[rows, lit.col]]
    v = d.x[rows, lit.col]
    present = ~np.isnan(v)
    m = present.copy()
    if lit.lo is not None:
        m &= v >= lit.lo
    if lit.hi is not None:
        m &= v <= lit.hi
    if lit.missing:
        m |= ~present
    return m


class _Masks:
    """Literal masks over fixed rows, computed once each."""

    def __init__(self, d: Design, rows: np.ndarray) -> None:
        self.d, self.rows, self.cache = d, rows, {}
        self.paths: dict[frozenset, np.ndarray] = {}
        self.values: dict[int, np.ndarray] = {}

    def observed(self, col: int) -> np.ndarray:
        """Sorted distinct non-missing values of a numeric column over the rows."""
        if col not in self.values:
            v = self.d.x[self.rows, col]
            self.values[col] = np.unique(v[~np.isnan(v)])
        return self.values[col]

    def literal(self, lit: Literal) -> np.ndarray:
        if lit not in self.cache:
            self.cache[lit] = literal_mask(self.d, lit, self.rows)
        return self.cache[lit]

    def path(self, path: Path) -> np.ndarray:
        key = frozenset(path)
        if key not in self.paths:
            m = np.ones(len(self.rows), dtype=bool)
            for lit in path:
                m &= self.literal(lit)
            if len(self.paths) > PATH_CACHE:
                self.paths.clear()
            self.paths[key] = m
        return self.paths[key]

    def rule(self, paths: list[Path]) -> np.ndarray:
        m = np.zeros(len(self.rows), dtype=bool)
        for p in paths:
            m |= self.path(p)
        return m


# Path masks kept at most (a rule search meets a few thousand).
PATH_CACHE = 20_000


def pu_score(tp: float, selected: float, positives: float, c: float) -> float:
    """:func:`pu_f1` from the weighted list customers selected, everyone selected."""
    if tp <= 0:
        return 0.0
    precision = min(1.0, tp / selected / c)
    recall = tp / positives
    return 2 * precision * recall / (precision + recall)


def pu_f1(mask: np.ndarray, y: np.ndarray, w: np.ndarray, positives: float, c: float) -> float:
    """F1 of a selection against the *group* a list samples (positive-unlabeled learning).

    Recall is measured on the list (a random sample of the group has the
    group's recall); precision against the group is the share of the list
    in the selection divided by the label frequency ``c`` (the share of the
    group that is on the list; Elkan & Noto 2008), at most 1. With ``c`` = 1
    it is the ordinary F1 (a fully labelled group, as a persona's cluster).
    """
    return pu_score(float(w[mask & y].sum()), float(w[mask].sum()), positives, c)


def literal_conditions(d: Design, lit: Literal) -> int:
    """How many rule conditions a literal becomes (0 when it is always true)."""
    if lit.is_cat:
        levels = d.cat_levels[lit.col]
        return 0 if len(lit.levels) == len(levels) else 1
    kind = d.specs[lit.col].kind
    if kind in ("count", "sum"):
        lower = lit.lo is not None and lit.lo > 0
        return int(lower) + int(lit.hi is not None)
    return 1


def literal_values(d: Design, lit: Literal) -> int:
    """How many values a category literal lists (``in``, or ``not_in`` when it keeps missing)."""
    if not lit.is_cat:
        return 0
    levels = d.cat_levels[lit.col]
    present = [i for i, v in enumerate(levels) if v != ""]
    missing = [i for i, v in enumerate(levels) if v == ""]
    if missing and missing[0] in lit.levels:
        return sum(1 for i in present if i not in lit.levels)
    return len(lit.levels)


def rule_conditions(d: Design, paths: list[Path]) -> int:
    return sum(literal_conditions(d, lit) for p in paths for lit in p)


def rule_size(d: Design, paths: list[Path]) -> tuple[int, int]:
    """(conditions, values listed): the smaller, the simpler (ties go to the shorter rule)."""
    return (
        rule_conditions(d, paths),
        sum(literal_values(d, lit) for p in paths for lit in p if literal_conditions(d, lit)),
    )


# --- the tree and its paths ----------------------------------------------------------
