"""What sets a segment version's members apart from the rest of its population (docs/discovery.md).

Method: standardized mean difference (SMD) of every feature between the
version's current members and the other customers of its population (every
customer, or the parent's current members), top 15 by absolute SMD.
Near-duplicates (features correlating above 0.9 over the population, such as
one prescription total over 3, 6 and 12 months) are shown once: the strongest
is listed and the others are named beside it (``similar``).
"""

from __future__ import annotations

import numpy as np

from accounts.permissions import require
from core.time import iso_z
from segmentation.models import Segment, SegmentVersion
from segmentation.selectors import current_version, version_get

from ..features import build_features
from ..learning import NEAR_DUPLICATE, group_near_duplicates, standardized_differences
from .common import population_of, resolve_as_of

TOP = 15
METHOD = "standardized_mean_difference"


def segment_differentiators(*, user, segment: Segment, number: int | None = None) -> dict:
    """The top features by |SMD| between members and non-members of a version."""
    require(user, "view_differentiators")
    version: SegmentVersion = (
        version_get(segment=segment, number=number) if number else current_version(segment)
    )
    as_of = resolve_as_of(version.last_as_of)
    population = population_of(version.parent.key if version.parent_id else None)
    members = np.array(
        sorted(version.members.values_list("customer_id", flat=True)), dtype=np.int64
    )
    answer = {
        "segment": segment.key,
        "version": version.number,
        "method": METHOD,
        "as_of": iso_z(as_of),
        "members": int(len(members)),
        "population": 0,
        "near_duplicate_correlation": NEAR_DUPLICATE,
        "differentiators": [],
    }
    if len(members) == 0:
        answer["population"] = population.count()
        return answer
    table = build_features(population=population.customers, as_of=as_of)
    answer["population"] = len(table)
    frame = table.onehot()
    inside = np.isin(table.ids, members)
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    differences = standardized_differences(frame, inside, values)
    groups = group_near_duplicates(frame, differences, top=TOP, values=values)
    answer["differentiators"] = [
        {
            **_row(table, g.lead),
            "similar": [
                {**_row(table, d), "correlation": _correlation(values, frame, g.lead, d)}
                for d in g.like
            ],
        }
        for g in groups
    ]
    return answer


def _row(table, d) -> dict:
    return {
        "feature": d.feature,
        "label": table.spec_for(d.feature).label,
        "smd": round(d.smd, 3),
        "members_mean": round(d.inside_mean, 4),
        "non_members_mean": round(d.outside_mean, 4),
    }


def _correlation(values: np.ndarray, frame, a, b) -> float:
    cols = list(frame.columns)
    x, y = values[:, cols.index(a.feature)], values[:, cols.index(b.feature)]
    ok = ~(np.isnan(x) | np.isnan(y))
    return round(float(np.corrcoef(x[ok], y[ok])[0, 1]), 3)
