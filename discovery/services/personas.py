"""Personas: k-means on standardized features, each cluster described by a rule (docs/discovery.md).

k is chosen by silhouette (on a fixed sample) between 2 and 8 when not
given. Each persona's rule is learned as in Describe (the cluster against
the rest) and its fidelity (precision and recall against the cluster) is
measured by evaluating the rule with the segment engine.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from accounts.permissions import require
from core.errors import ValidationFailed
from core.time import iso_z
from segmentation.presentation import describe_rule

from ..features import build_features
from ..learning import (
    RANDOM_STATE,
    cluster,
    design_from_table,
    learn_rule,
    rule_document,
    scores,
    standardize,
    standardized_differences,
)
from ..models import DiscoveryKind, DiscoveryRun
from ..table import FAMILIES, FeatureTable
from .common import (
    Progress,
    check_constant,
    check_population,
    group_fidelity,
    no_progress,
    population_of,
    resolve_as_of,
    sample_of,
    sample_rows,
    save_run,
    scaled_counts,
    valid_rule,
)

K_RANGE = (2, 12)
AUTO_K = range(2, 9)
PERSONA_CONDITIONS = 4
PROFILE_SIZE = 5
LEARN_ROWS = 40_000
# Customers personas are computed on; above it, a fixed random sample (docs/discovery.md).
PERSONA_ROWS = 20_000
METHOD = "kmeans"

SPECIALTY_NOUNS = {
    "cardiology": "cardiologists",
    "oncology": "oncologists",
    "hematology": "hematologists",
    "endocrinology": "endocrinologists",
    "neurology": "neurologists",
    "rheumatology": "rheumatologists",
    "nephrology": "nephrologists",
    "pulmonology": "pulmonologists",
    "gastroenterology": "gastroenterologists",
    "dermatology": "dermatologists",
    "psychiatry": "psychiatrists",
    "infectious_disease": "infectious disease specialists",
    "internal_medicine": "internists",
    "family_medicine": "family physicians",
    "pediatrics": "pediatricians",
    "obstetrics_gynecology": "OB/GYNs",
    "pharmacy": "pharmacists",
    "nurse_practitioner": "nurse practitioners",
}


def check_k(k: Any) -> int | None:
    lo, hi = K_RANGE
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValidationFailed(f"must be an integer from {lo} to {hi}", path="k")
    if not lo <= k <= hi:
        raise ValidationFailed(f"{k} is out of range; choose k from {lo} to {hi}", path="k")
    return k


def check_families(families: Any) -> tuple[str, ...]:
    if families is None:
        return FAMILIES
    if not isinstance(families, list) or not families:
        raise ValidationFailed(
            f"must be a non-empty list of {', '.join(FAMILIES)}", path="families"
        )
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValidationFailed(
            f"unknown families {unknown!r} (expected some of {', '.join(FAMILIES)})",
            path="families",
        )
    return tuple(f for f in FAMILIES if f in families)


def check_personas(*, user, k: Any = None, parent: str | None = None, families: Any = None) -> None:
    """The checks that need no learning (the API runs them before queueing)."""
    require(user, "run_discovery")
    check_k(k)
    check_families(families)
    check_population(population_of(parent))


def _short(table: FeatureTable, name: str) -> str:
    spec = table.spec_for(name)
    if spec.kind == "count":
        event = spec.event or {}
        what = event.get("channel", "").replace("_", "-")
        if event.get("kind"):
            what += f" {event['kind'].replace('_', ' ')}"
        return what
    if spec.kind == "sum":
        product = (spec.rx or {}).get("product")
        metric = {"new_patient_starts": "new-patient-start"}.get(spec.metric, spec.metric.upper())
        return f"{product} {metric}" if product else metric
    return spec.label.lower()


def persona_label(table: FeatureTable, frame: pd.DataFrame, inside: np.ndarray, differences) -> str:
    """A short readable name: "High rep-visit cardiologists, decile 8+"."""
    noun = "HCPs"
    if "specialty" in table.categories:
        values = table.categories["specialty"][inside]
        if len(values):
            top, count = (
                pd.Series(values).value_counts().index[0],
                pd.Series(values).value_counts().iloc[0],
            )
            if top and count / len(values) >= 0.5:
                noun = SPECIALTY_NOUNS.get(top, f"{top.replace('_', ' ')} HCPs")
    activity = ""
    for diff in differences:
        spec = table.spec_for(diff.feature)
        if spec.kind in ("count", "sum") and abs(diff.smd) >= 0.3:
            activity = f"{'High' if diff.smd > 0 else 'Low'} {_short(table, diff.feature)}"
            break
    decile = ""
    if "decile" in frame.columns:
        inside_decile = frame["decile"].to_numpy()[inside]
        inside_decile = inside_decile[~np.isnan(inside_decile)]
        overall = frame["decile"].to_numpy()
        overall = overall[~np.isnan(overall)]
        if len(inside_decile) and len(overall) and overall.std() > 0:
            shift = (inside_decile.mean() - overall.mean()) / overall.std()
            if shift >= 0.3:
                decile = f", decile {int(np.percentile(inside_decile, 25))}+"
            elif shift <= -0.3:
                decile = f", decile {int(np.percentile(inside_decile, 75))} or lower"
    if not activity and not decile and noun == "HCPs":
        # Nothing sets the persona apart by the thresholds above: say so rather
        # than name it like the whole population.
        noun = "Typical HCPs"
    label = f"{activity} {noun}" if activity else noun
    label = label[0].upper() + label[1:]
    return f"{label}{decile}"


# Personas cluster on a compact view of engagement and prescribing: channels (not each
# channel and kind) over 90 and 365 days, and 12-month rx sums; every profile feature.
PERSONA_WINDOWS = (90, 365)
PERSONA_MONTHS = (12,)


def persona_frame(table: FeatureTable, families: tuple[str, ...]) -> pd.DataFrame:
    """The features personas are clustered and profiled on (see PERSONA_WINDOWS)."""
    frame = table.onehot(families=families)
    keep = []
    for name in frame.columns:
        spec = table.spec_for(name)
        if spec.kind == "count":
            if "kind" in (spec.event or {}) or spec.within_days not in PERSONA_WINDOWS:
                continue
        if spec.kind == "sum" and spec.months not in PERSONA_MONTHS:
            continue
        keep.append(name)
    return frame[keep]


def find_personas(
    *,
    user,
    k: Any = None,
    parent: str | None = None,
    as_of: dt.datetime | None = None,
    families: Any = None,
    progress: Progress = no_progress,
) -> DiscoveryRun:
    """Cluster the population into personas, each with a rule, fidelity, profile and label."""
    require(user, "run_discovery")
    k = check_k(k)
    families = check_families(families)
    as_of = resolve_as_of(as_of)
    population = population_of(parent)
    check_population(population)
    # Large populations: personas are found on a fixed random sample; sizes are
    # scaled to the population and fidelity is measured by the engine on the sample.
    customers, size = sample_of(population, limit=PERSONA_ROWS, seed=RANDOM_STATE)
    sampled = customers is not population.customers
    table = build_features(population=customers, as_of=as_of, families=families)
    check_constant(table)
    progress(0.3)
    frame = persona_frame(table, families)
    z, columns = standardize(frame)
    if not columns:
        raise ValidationFailed(
            "every feature is constant over this population; widen it or add families",
            path="families",
        )
    wanted = k or min(AUTO_K)
    if size < max(wanted, 3) * 2:
        raise ValidationFailed(
            f"the population has {size} customers, too few for {wanted} personas", path="k"
        )
    clustering = cluster(z, k=k, ks=AUTO_K)
    progress(0.5)

    # One design for every persona; each rule learns from its persona and (in large
    # populations) a weighted sample of the rest.
    design = design_from_table(table)
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    sizes = scaled_counts(np.bincount(clustering.labels, minlength=clustering.k), size)
    within = customers if sampled else None
    rules = []
    for c in range(clustering.k):
        inside = clustering.labels == c
        rows, weights = sample_rows(inside, limit=LEARN_ROWS, seed=RANDOM_STATE + c)
        w = np.zeros(len(inside))
        w[rows] = weights
        learned = learn_rule(design, inside, w, max_conditions=PERSONA_CONDITIONS, rows=rows)
        rule = rule_document(design, learned.paths)
        valid_rule(rule)
        rules.append(rule)
        progress(0.5 + 0.35 * (c + 1) / clustering.k)
    # Every persona's rule measured by the engine against its members, in one statement.
    fidelities = group_fidelity(
        rules,
        ids=table.ids,
        labels=clustering.labels,
        as_of=as_of,
        population=population,
        within=within,
    )
    progress(0.9)
    personas = []
    means = frame.mean(axis=0, skipna=True)
    for c, rule in enumerate(rules):
        inside = clustering.labels == c
        selected, hits = fidelities[c]
        fidelity = scores(hits, selected - hits, int(inside.sum()) - hits)
        differences = standardized_differences(frame, inside, values)
        profile = [
            {
                "feature": d.feature,
                "label": table.spec_for(d.feature).label,
                "persona_mean": round(d.inside_mean, 4),
                "population_mean": round(float(means[d.feature]), 4),
                "smd": round(d.smd, 3),
            }
            for d in differences[:PROFILE_SIZE]
        ]
        personas.append(
            {
                "index": c,
                "label": persona_label(table, frame, inside, differences),
                "size": int(sizes[c]),
                "entry_rule": rule,
                "plain_english": describe_rule(rule),
                "fidelity": {"precision": fidelity.precision, "recall": fidelity.recall},
                "profile": profile,
            }
        )
    _unique_labels(personas)
    result = {
        "k": clustering.k,
        "method": METHOD,
        "k_chosen_by": "request" if k else "silhouette",
        "silhouette": {str(key): v for key, v in clustering.silhouette.items()},
        "personas": personas,
        "model": {
            "method": METHOD,
            "library_version": f"scikit-learn {sklearn.__version__}",
            "as_of": iso_z(as_of),
            "population": size,
            "families": list(families),
            "features": len(columns),
            "random_state": RANDOM_STATE,
            "clustered_on": len(table),
        },
    }
    run = save_run(
        user=user,
        scope=population,
        result=result,
        audit={"k": clustering.k, "labels": [p["label"] for p in personas]},
        kind=DiscoveryKind.PERSONAS,
        as_of=as_of,
        method=METHOD,
        population=size,
        request={"k": k, "parent": population.parent, "families": list(families)},
    )
    progress(1.0)
    return run


def _unique_labels(personas: list[dict]) -> None:
    seen: dict[str, int] = {}
    for persona in personas:
        label = persona["label"]
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            persona["label"] = f"{label} ({seen[label]})"
