"""What sets a segment version's members apart from the rest of its population (docs/discovery.md).

Method: standardized mean difference (SMD) of every feature between the
version's current members and the other customers of its population (every
customer, or the parent's current members), top 15 by absolute SMD.
"""

from __future__ import annotations

import numpy as np

from accounts.permissions import require
from core.time import iso_z
from segmentation.models import Segment, SegmentVersion
from segmentation.selectors import current_version, version_get

from ..features import build_features
from ..learning import standardized_differences
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
        "differentiators": [],
    }
    if len(members) == 0:
        answer["population"] = population.count()
        return answer
    table = build_features(population=population.customers, as_of=as_of)
    answer["population"] = len(table)
    frame = table.onehot()
    inside = np.isin(table.ids, members)
    differences = standardized_differences(frame, inside)[:TOP]
    answer["differentiators"] = [
        {
            "feature": d.feature,
            "label": table.spec_for(d.feature).label,
            "smd": round(d.smd, 3),
            "members_mean": round(d.inside_mean, 4),
            "non_members_mean": round(d.outside_mean, 4),
        }
        for d in differences
    ]
    return answer
