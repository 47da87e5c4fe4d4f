"""The feature table as plain data: which features exist and which rule condition each stands for.

Pure pandas/numpy (no database): ``features.py`` fills it from SQL, the
learners in ``learning.py`` read it. See docs/discovery.md, "Features".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmentation.rules.catalog import get_field

FAMILIES = ("profile", "engagement", "rx")


def label_of(path: str) -> str:
    """The catalog's label of a field path (the path itself when it has none)."""
    spec = get_field(path)
    return spec.label if spec is not None and spec.label else path


@dataclass(frozen=True)
class FeatureSpec:
    """One feature and the rule condition it stands for.

    ``kind``: ``numeric`` (a field or ``attr.`` number, may be missing),
    ``count`` (an event count, never missing), ``sum`` (an rx sum, never
    missing) or ``onehot`` (one value of a categorical field).
    """

    name: str
    family: str
    kind: str
    label: str
    path: str = ""  # field path for numeric / onehot
    value: Any = None  # the category value for onehot
    event: dict | None = None
    within_days: int | None = None
    rx: dict | None = None
    metric: str = ""
    months: int | None = None
    integer: bool = True

    def condition(self, op: str, value: Any) -> dict:
        """The rule condition "feature OP value" (numbers) as docs/rules.md writes it."""
        if self.kind == "count":
            return {
                "event": dict(self.event or {}),
                "within_days": self.within_days,
                "count": {"op": op, "value": value},
            }
        if self.kind == "sum":
            return {
                "rx": dict(self.rx or {}),
                "metric": self.metric,
                "months": self.months,
                "sum": {"op": op, "value": value},
            }
        if self.kind == "onehot":
            return {"field": self.path, "op": "eq", "value": self.value}
        if self.kind == "missing":
            return {"field": self.path, "op": "is_not_set"}
        return {"field": self.path, "op": op, "value": value}


@dataclass
class FeatureTable:
    """Features of a population at ``as_of``: ``numeric`` (float, NaN = missing) and categories.

    ``ids`` are customer ids in ascending order, the row order of every part.
    ``categories[path]`` holds each customer's value as a string ("" = missing).
    """

    as_of: dt.datetime
    ids: np.ndarray
    numeric: pd.DataFrame
    categories: dict[str, np.ndarray]
    specs: dict[str, FeatureSpec] = field(default_factory=dict)
    category_values: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def onehot(self, *, families: tuple[str, ...] = FAMILIES) -> pd.DataFrame:
        """Numeric features plus one 0/1 column per category value (``path=value``)."""
        numeric_cols = [c for c in self.numeric.columns if self.specs[c].family in families]
        parts = [self.numeric[numeric_cols]]
        if "profile" in families:
            cols = {}
            for path, values in self.categories.items():
                for v in self.category_values[path]:
                    cols[f"{path}={v}"] = (values == v).astype(np.float32)
                missing = values == ""
                if missing.any():
                    cols[f"{path}:missing"] = missing.astype(np.float32)
            if cols:
                parts.append(pd.DataFrame(cols, index=self.numeric.index))
        return pd.concat(parts, axis=1)

    def spec_for(self, name: str) -> FeatureSpec:
        """The spec of a numeric feature or of a ``path=value`` / ``path:missing`` column."""
        if name in self.specs:
            return self.specs[name]
        if name.endswith(":missing"):
            path = name[: -len(":missing")]
            return FeatureSpec(
                name=name,
                family="profile",
                kind="missing",
                label=f"{label_of(path)} missing",
                path=path,
            )
        path, _, value = name.partition("=")
        return FeatureSpec(
            name=name,
            family="profile",
            kind="onehot",
            label=f"{label_of(path)} {value}",
            path=path,
            value=_typed_value(path, value),
        )


def _typed_value(path: str, value: str) -> Any:
    if path == "email_opt_out":
        return value == "true"
    return value
