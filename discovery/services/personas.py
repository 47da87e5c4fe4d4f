"""Personas: k-means on standardized features, each cluster described by a rule (docs/discovery.md).

k is chosen by silhouette (on a fixed sample) between 2 and 8 when not
given. Each persona's rule is learned as in Describe (the cluster against
the rest) and its fidelity (precision and recall against the cluster) is
measured by evaluating the rule with the segment engine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
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
    Design,
    Literal,
    cluster,
    design_from_table,
    learn_rule,
    rule_document,
    scores,
    standardize,
    standardized_differences,
)
from ..models import DiscoveryKind, DiscoveryRun
from ..table import FAMILIES, FeatureTable, label_of
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
PERSONA_CONDITIONS = 3
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
    "other": "other-specialty HCPs",
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


def _values_phrase(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _literal_phrase(table: FeatureTable, design: Design, lit: Literal) -> tuple[str, str] | None:
    """(slot, words) a rule literal gives a label: the noun, an activity or a qualifier.

    Only what the literal itself says, so a label never contradicts its rule.
    """
    if lit.is_cat:
        path = design.cat_paths[lit.col]
        levels = design.cat_levels[lit.col]
        chosen = sorted(levels[i] for i in lit.levels)
        if "" in chosen or not chosen or len(chosen) > 3:
            return None
        if path == "specialty":
            nouns = [SPECIALTY_NOUNS.get(v, f"{v.replace('_', ' ')} HCPs") for v in chosen]
            return "noun", " and ".join(nouns)
        words = [v.replace("_", " ") for v in chosen]
        return "qualifier", f"{label_of(path).lower()} {_values_phrase(words)}"
    spec = design.specs[lit.col]
    if lit.lo == math.inf:
        return "qualifier", f"no {spec.label.lower()}"
    lo, hi = lit.lo, lit.hi
    if spec.kind in ("count", "sum"):
        short = _short(table, spec.name)
        if lo is not None and lo > 0 and hi is None:
            return "activity", f"High {short}"
        if hi is not None and (lo is None or lo <= 0):
            return "activity", f"No {short}" if hi <= 0 else f"Low {short}"
        if lo is not None and hi is not None:
            return "activity", f"Mid {short}"
        return None
    name = "decile" if spec.path == "decile" else spec.label.lower()
    fmt = (lambda v: f"{v:g}") if not spec.integer else (lambda v: f"{int(round(v))}")
    if lo is not None and hi is not None:
        return "qualifier", f"{name} {fmt(lo)}-{fmt(hi)}"
    if lo is not None:
        return "qualifier", f"{name} {fmt(lo)}+"
    if hi is not None:
        return "qualifier", f"{name} {fmt(hi)} or lower"
    return None


def _rule_phrases(table: FeatureTable, design: Design, paths: list) -> list[tuple[str, str]]:
    """Phrases of the literals every path of the rule shares (true of everyone it selects)."""
    if not paths:
        return []
    common = [lit for lit in paths[0] if all(lit in p for p in paths[1:])]
    phrases = [_literal_phrase(table, design, lit) for lit in common]
    return [p for p in phrases if p is not None]


def _profile_phrase(table: FeatureTable, diff, used: set[str]) -> tuple[str, str] | None:
    """A phrase from the profile (an engagement or prescribing feature the rule leaves
    free, or the decile), said in the direction the persona differs."""
    spec = table.spec_for(diff.feature)
    if abs(diff.smd) < 0.3:
        return None
    if spec.kind in ("count", "sum"):
        short = _short(table, diff.feature)
        if short in used:
            return None
        return "activity", f"{'High' if diff.smd > 0 else 'Low'} {short}"
    if diff.feature == "decile" and "decile" not in used:
        return "qualifier", f"{'higher' if diff.smd > 0 else 'lower'} decile"
    if spec.kind == "onehot" and diff.smd > 0 and diff.inside_mean >= 0.5:
        if spec.path == "specialty":
            noun = SPECIALTY_NOUNS.get(spec.value, f"{str(spec.value).replace('_', ' ')} HCPs")
            return "noun", f"mostly {noun}"
        if spec.path not in used:
            value = str(spec.value).replace("_", " ")
            return "qualifier", f"mostly {label_of(spec.path).lower()} {value}"
    return None


def persona_label(
    table: FeatureTable, design: Design, paths: list, differences: list, extra: int = 0
) -> str:
    """A short readable name from what the persona's rule says sets it apart
    ("High rep-visit cardiologists, decile 8+"), then from its profile.

    Rule phrases come only from conditions every path of the rule shares, so
    the label is true of everyone the rule selects; profile phrases are used
    for what the rule leaves free. ``extra`` adds that many more profile
    phrases (to tell two personas apart).
    """
    phrases = _rule_phrases(table, design, paths)
    used = {w.split(" ", 1)[-1] for slot, w in phrases if slot == "activity"}
    used |= {"decile"} if any("decile" in w for _, w in phrases) else set()
    # Fields the rule speaks of anywhere: the profile never adds a word about them.
    used |= {
        design.cat_paths[lit.col] if lit.is_cat else design.specs[lit.col].path
        for path in paths
        for lit in path
    }
    wanted = (0 if len(phrases) >= 2 else 2 - len(phrases)) + extra
    for diff in differences:
        if wanted <= 0:
            break
        phrase = _profile_phrase(table, diff, used)
        if phrase is None or phrase in phrases:
            continue
        if phrase[0] == "noun" and any(slot == "noun" for slot, _ in phrases):
            continue
        phrases.append(phrase)
        used |= {phrase[1].split(" ", 1)[-1], table.spec_for(diff.feature).path}
        wanted -= 1
    nouns = [w for slot, w in phrases if slot == "noun"]
    activities = [w for slot, w in phrases if slot == "activity"][:2]
    qualifiers = [w for slot, w in phrases if slot == "qualifier"]
    noun = nouns[0] if nouns else "HCPs"
    if not activities and not qualifiers and not nouns:
        return "Typical HCPs"
    head = " and ".join(activities)
    if len(activities) == 2:
        first, second = activities
        head = f"{first}, {second[0].lower()}{second[1:]}"
    label = f"{head} {noun}" if head else noun
    label = label[0].upper() + label[1:]
    return ", ".join([label, *qualifiers[:2]])


# Personas cluster on a compact view of engagement and prescribing: channels (not each
# channel and kind) over 90 and 365 days, and 12-month rx sums; every profile feature.
PERSONA_WINDOWS = (90, 365)
PERSONA_MONTHS = (12,)


# Where a customer practises is not who they are: personas are found and described without
# the geography fields (else they come out as lists of states).
GEOGRAPHY = frozenset({"state", "territory", "account.state", "account.territory"})


def without_geography(table: FeatureTable) -> FeatureTable:
    """The table without the GEOGRAPHY categories (the rules personas learn from)."""
    return dataclasses.replace(
        table,
        categories={k: v for k, v in table.categories.items() if k not in GEOGRAPHY},
        category_values={k: v for k, v in table.category_values.items() if k not in GEOGRAPHY},
    )


def persona_frame(table: FeatureTable, families: tuple[str, ...]) -> pd.DataFrame:
    """The features personas are clustered and profiled on (see PERSONA_WINDOWS)."""
    frame = without_geography(table).onehot(families=families)
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
    design = design_from_table(without_geography(table))
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    sizes = scaled_counts(np.bincount(clustering.labels, minlength=clustering.k), size)
    within = customers if sampled else None
    rules, learned_paths = [], []
    for c in range(clustering.k):
        inside = clustering.labels == c
        rows, weights = sample_rows(inside, limit=LEARN_ROWS, seed=RANDOM_STATE + c)
        w = np.zeros(len(inside))
        w[rows] = weights
        learned = learn_rule(design, inside, w, max_conditions=PERSONA_CONDITIONS, rows=rows)
        rule = rule_document(design, learned.paths)
        valid_rule(rule)
        rules.append(rule)
        learned_paths.append(learned.paths)
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
    personas, all_differences = [], []
    means = frame.mean(axis=0, skipna=True)
    for c, rule in enumerate(rules):
        inside = clustering.labels == c
        selected, hits = fidelities[c]
        fidelity = scores(hits, selected - hits, int(inside.sum()) - hits)
        differences = standardized_differences(frame, inside, values)
        all_differences.append(differences)
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
                "label": persona_label(table, design, learned_paths[c], differences),
                "size": int(sizes[c]),
                "entry_rule": rule,
                "plain_english": describe_rule(rule),
                "fidelity": {"precision": fidelity.precision, "recall": fidelity.recall},
                "profile": profile,
            }
        )
    _unique_labels(
        personas,
        lambda c, extra: persona_label(
            table, design, learned_paths[c], all_differences[c], extra=extra
        ),
    )
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
            "max_conditions": PERSONA_CONDITIONS,
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


def _unique_labels(personas: list[dict], relabel) -> None:
    """Two personas never share a label: those that do say one more thing from their
    profile (``relabel(index, extra)``), and a number if even that is the same."""
    for extra in (1, 2):
        counts: dict[str, int] = {}
        for persona in personas:
            counts[persona["label"]] = counts.get(persona["label"], 0) + 1
        shared = [p for p in personas if counts[p["label"]] > 1]
        if not shared:
            return
        for persona in shared:
            persona["label"] = relabel(persona["index"], extra)
    seen: dict[str, int] = {}
    for persona in personas:
        label = persona["label"]
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            persona["label"] = f"{label} ({seen[label]})"
