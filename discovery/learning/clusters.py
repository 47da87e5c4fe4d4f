"""Personas and differentiators: standardised features, k-means, mean differences."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score

from .design import EPS, RANDOM_STATE


@dataclass
class Clustering:
    k: int
    labels: np.ndarray  # cluster index per row, 0 = largest
    silhouette: dict[int, float] = field(default_factory=dict)


def standardize(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Z-scores of the non-constant columns (missing as the column mean); their names."""
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    mean = np.nanmean(values, axis=0) if values.size else np.zeros(0)
    values = np.where(np.isnan(values), mean, values)
    std = values.std(axis=0)
    keep = std > 0
    z = (values[:, keep] - mean[keep]) / std[keep]
    return z.astype(np.float32), [c for c, k in zip(frame.columns, keep, strict=True) if k]


PCA_COMPONENTS = 20


def cluster(
    z: np.ndarray, *, k: int | None, ks: range = range(2, 9), fit_rows: int = 10000
) -> Clustering:
    """k-means on standardized features; k by silhouette on a sample when not given.

    The standardized features are first reduced to at most 20 principal
    components (fitted on the sample), which keeps distances meaningful and
    k-means fast. The model is fitted on a fixed random sample of at most
    ``fit_rows`` rows (all rows when fewer) and every row is assigned to its
    nearest centre, so sizes add up to the population. Clusters are
    renumbered largest first.
    """
    rng = np.random.default_rng(RANDOM_STATE)
    n = z.shape[0]
    fit = np.sort(rng.choice(n, size=min(n, fit_rows), replace=False))
    components = min(PCA_COMPONENTS, z.shape[1], len(fit))
    if components < z.shape[1]:
        pca = PCA(n_components=components, random_state=RANDOM_STATE).fit(z[fit])
        z = pca.transform(z).astype(np.float32)
    silhouettes: dict[int, float] = {}
    models: dict[int, KMeans] = {}
    if k is None:
        sample = np.sort(rng.choice(n, size=min(n, 2000), replace=False))
        best = None
        for candidate in ks:
            if candidate >= len(sample):
                break
            model = KMeans(n_clusters=candidate, n_init=3, random_state=RANDOM_STATE)
            model.fit(z[fit])
            models[candidate] = model
            labels = model.predict(z[sample])
            if len(set(labels.tolist())) < 2:
                continue
            score = float(silhouette_score(z[sample], labels, random_state=RANDOM_STATE))
            silhouettes[candidate] = round(score, 4)
            if best is None or score > best[0] + EPS:
                best = (score, candidate)
        k = best[1] if best else 2
    # The chosen candidate was fitted exactly as below already (same rows and seed).
    model = models.get(k) or KMeans(n_clusters=k, n_init=3, random_state=RANDOM_STATE).fit(z[fit])
    raw = model.predict(z)
    sizes = np.bincount(raw, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], c))
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(k)
    return Clustering(k=k, labels=renumber[raw], silhouette=silhouettes)


# --- differences between two groups --------------------------------------------------------


@dataclass
class Difference:
    feature: str
    smd: float
    inside_mean: float
    outside_mean: float


def standardized_differences(
    frame: pd.DataFrame, inside: np.ndarray, values: np.ndarray | None = None
) -> list[Difference]:
    """Standardized mean difference of every non-constant column, largest |SMD| first.

    SMD = (mean inside - mean outside) / sqrt((var inside + var outside) / 2);
    missing values are left out of each mean. ``values`` may hold the frame
    as a float array already (when called once per persona).
    """
    if values is None:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    a, b = values[inside], values[~inside]
    if len(a) == 0 or len(b) == 0:
        return []
    # A column missing for everyone on one side gives NaN, left out below: no warning.
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_a, mean_b = np.nanmean(a, axis=0), np.nanmean(b, axis=0)
        pooled = np.sqrt((np.nanvar(a, axis=0) + np.nanvar(b, axis=0)) / 2)
        smd = (mean_a - mean_b) / pooled
    out = []
    for j, name in enumerate(frame.columns):
        if not np.isfinite(smd[j]) or pooled[j] == 0:
            continue
        out.append(Difference(name, float(smd[j]), float(mean_a[j]), float(mean_b[j])))
    out.sort(key=lambda d: (-abs(d.smd), d.feature))
    return out


# Features correlating above this over the population are shown once (docs/discovery.md).
NEAR_DUPLICATE = 0.9


@dataclass
class Group:
    """A differentiator and the near-duplicates named beside it."""

    lead: Difference
    like: list[Difference]


def group_near_duplicates(
    frame: pd.DataFrame,
    differences: list[Difference],
    *,
    top: int,
    threshold: float = NEAR_DUPLICATE,
    values: np.ndarray | None = None,
) -> list[Group]:
    """The ``top`` strongest differences, each with the weaker ones correlating above
    ``threshold`` with it over the whole frame (Pearson, missing as the column mean).

    ``differences`` come strongest first; a feature joins the first (strongest)
    kept feature it nearly duplicates, so each appears once.
    """
    if values is None:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    index = {name: j for j, name in enumerate(frame.columns)}
    cache: dict[str, np.ndarray] = {}

    def standardized(name: str) -> np.ndarray:
        if name not in cache:
            v = values[:, index[name]]
            mean = np.nanmean(v) if np.isfinite(v).any() else 0.0
            v = np.where(np.isnan(v), mean, v) - mean
            norm = np.sqrt((v * v).sum())
            cache[name] = v / norm if norm > 0 else v * 0
        return cache[name]

    groups: list[Group] = []
    for diff in differences:
        z = standardized(diff.feature)
        for group in groups:
            if float(z @ standardized(group.lead.feature)) > threshold:
                group.like.append(diff)
                break
        else:
            if len(groups) >= top:
                continue
            groups.append(Group(lead=diff, like=[]))
    return groups
