"""Negated event conditions that a sibling event condition already decides.

A preview compiles a definition as ``{"all": [entry, {"not": exit}]}``
(docs/rules.md, "Membership": a first recompute admits E \\ X). When the
entry counts the same interactions as the exit over a window the exit's
window contains, the entry alone can make the exit impossible: "at least 3
interactions in 30 days" rules out "no interaction in 90 days", because a
count over a longer window is never smaller. The ``not`` is then true for
every customer the entry admits, and reading each one's latest times again
for it is wasted work (bench/README.md, "Previews": the ``lapsing`` rule).

The test is on the rule document only, so it is exact: a ``not`` is dropped
only when no customer could pass its sibling and fail it, at any ``as_of``.
"""

from __future__ import annotations

import math
from decimal import Decimal

from .catalog import DECIMAL, INTEGER, get_field
from .fields import _decimal, _int_bound


def count_range(count: dict | None) -> tuple[int, float] | None:
    """The counts (lowest, highest; highest may be infinite) an event ``count``
    admits, or None when they are not one interval (``ne``) or none at all."""
    count = count or {"op": "gte", "value": 1}  # docs/rules.md: the default count
    bound = _int_bound(count["op"], count["value"])
    if isinstance(bound, bool):
        return None
    op, k = bound
    ranges = {
        "gte": (k, math.inf),
        "gt": (k + 1, math.inf),
        "lt": (0, k - 1),
        "lte": (0, k),
        "eq": (k, k),
    }
    low, high = ranges.get(op, (None, None))
    if low is None or high < max(low, 0):
        return None
    return max(low, 0), high


def _contains(outer: int | None, inner: int | None) -> bool:
    """Whether the window of ``outer`` days (None: all time) contains that of ``inner``.
    Both end at the same ``as_of``."""
    return outer is None or (inner is not None and outer >= inner)


def rules_out(given: dict, other: dict) -> bool:
    """True when no customer can satisfy the event condition ``given`` and ``other`` at once."""
    if "event" not in given or "event" not in other or given["event"] != other["event"]:
        return False
    a, b = count_range(given.get("count")), count_range(other.get("count"))
    if a is None or b is None:
        return False
    wa, wb = given.get("within_days"), other.get("within_days")
    if _contains(wb, wa) and b[1] < a[0]:
        return True  # other's count >= given's >= a's lowest, above b's highest
    return _contains(wa, wb) and b[0] > a[1]  # other's count <= given's <= a's highest


def without_decided_negations(children: list[dict]) -> list[dict]:
    """``children`` of an ``all`` without each ``{"not": B}`` that a positive event
    sibling makes true for every customer it admits."""
    positives = [c for c in children if "event" in c]
    if not positives:
        return children
    return [
        c for c in children if not ("not" in c and any(rules_out(p, c["not"]) for p in positives))
    ]


def _numeric_interval(node: dict) -> tuple[Decimal | None, bool, Decimal | None, bool] | None:
    """The values (low, low included, high, high included; None: unbounded) a field
    condition on a number field admits, or None when it is not one interval of numbers."""
    spec = get_field(node.get("field"))
    value = node.get("value")
    if (
        spec is None
        or spec.type not in (INTEGER, DECIMAL)
        or isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        return None
    v = _decimal(value)
    return {
        "gt": (v, False, None, False),
        "gte": (v, True, None, False),
        "lt": (None, False, v, False),
        "lte": (None, False, v, True),
        "eq": (v, True, v, True),
    }.get(node.get("op"))


def _fields_exclude(given: dict, other: dict) -> bool:
    """True when two conditions on the same number field admit no value in common.

    A customer has one value of such a field (or none: then neither holds), so
    disjoint intervals never meet ("decile at least 9" and "decile at most 5")."""
    if given.get("field") != other.get("field"):
        return False
    a, b = _numeric_interval(given), _numeric_interval(other)
    if a is None or b is None:
        return False

    def below(x, y) -> bool:  # x's interval ends before y's begins
        high, high_in, low, low_in = x[2], x[3], y[0], y[1]
        if high is None or low is None:
            return False
        return high < low or (high == low and not (high_in and low_in))

    return below(a, b) or below(b, a)


def entry_rules_out_exit(entry: dict, exit_rule: dict | None) -> bool:
    """True when no customer can satisfy ``entry`` and ``exit_rule`` at once: a condition
    of the entry (itself, or a child of its ``all``) rules out the exit, a condition of
    the same kind: an event count (``rules_out``), or a number field's range
    (``_fields_exclude``). A full recompute then compares E with M and tests only the
    members outside E against the exit: M' = (E ∪ M) \\ X is E ∪ (M \\ X) when E and X
    never meet (docs/rules.md, "Membership"; ``services.membership.ruled_out_exit_split``)."""
    if exit_rule is None:
        return False
    conjuncts = entry["all"] if set(entry) == {"all"} else [entry]
    if "event" in exit_rule:
        return any(rules_out(c, exit_rule) for c in conjuncts if "event" in c)
    if "field" in exit_rule:
        return any(_fields_exclude(c, exit_rule) for c in conjuncts if "field" in c)
    return False
