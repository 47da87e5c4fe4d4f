"""Two versions compared as a reviewer reads them (docs/pages.md, "Reviewers"):
the rules' conditions in plain English side by side, each marked added, removed,
changed or the same, and the other definition fields that changed.

Pure: rules and versions in, text out (labels come from the field catalog).
"""

from __future__ import annotations

import json
from typing import Any

from .presentation import describe_rule, field_labels

META_FIELDS = (
    ("name", "Name"),
    ("description", "Description"),
    ("purpose", "Purpose"),
    ("therapy_area", "Therapy area"),
    ("indications", "Indications"),
    ("parent", "Parent segment"),
)


def _conditions(rule: Any) -> list[Any]:
    """The top-level conditions of a rule: the children of a top-level ALL group, else
    the rule itself as one condition."""
    if rule is None:
        return []
    if isinstance(rule, dict) and set(rule) == {"all"} and isinstance(rule["all"], list):
        return list(rule["all"])
    return [rule]


def _canon(node: Any) -> str:
    return json.dumps(node, sort_keys=True)


def _subject(node: Any) -> str:
    """What a condition is about, to pair a removed and an added one as "changed"."""
    if isinstance(node, dict):
        for key in ("field", "event", "rx", "segment"):
            if key in node:
                return f"{key}:{node[key] if key != 'event' else sorted(node[key])}"
    return ""


def compare_rules(old: Any, new: Any, labels: dict[str, str] | None = None) -> dict:
    """``{"before": [...], "after": [...], "added", "removed", "changed"}``; each item
    ``{"text", "status"}`` with status ``same``, ``added``, ``removed`` or ``changed``."""
    labels = labels if labels is not None else field_labels()
    before, after = _conditions(old), _conditions(new)
    old_keys, new_keys = [_canon(n) for n in before], [_canon(n) for n in after]
    removed = [i for i, k in enumerate(old_keys) if k not in new_keys]
    added = [i for i, k in enumerate(new_keys) if k not in old_keys]
    changed_old, changed_new = set(), set()
    for i in removed:
        subject = _subject(before[i])
        for j in added:
            if j not in changed_new and subject and _subject(after[j]) == subject:
                changed_old.add(i)
                changed_new.add(j)
                break

    def status(i: int, gone: list[int], changed: set[int], word: str) -> str:
        if i in changed:
            return "changed"
        return word if i in gone else "same"

    return {
        "before": [
            {
                "text": describe_rule(n, labels),
                "status": status(i, removed, changed_old, "removed"),
            }
            for i, n in enumerate(before)
        ],
        "after": [
            {"text": describe_rule(n, labels), "status": status(j, added, changed_new, "added")}
            for j, n in enumerate(after)
        ],
        "added": len(added) - len(changed_new),
        "removed": len(removed) - len(changed_old),
        "changed": len(changed_new),
    }


def _meta_value(version, name: str) -> str:
    value = getattr(version, name, None)
    if name == "parent":
        value = getattr(value, "key", None)
    if isinstance(value, list):
        value = ", ".join(value)
    return value or "—"


def compare_versions(old, new) -> dict:
    """Entry rule, exit rule and definition fields of ``new`` against ``old`` (may be None)."""
    labels = field_labels()
    meta = []
    for name, label in META_FIELDS:
        before = _meta_value(old, name) if old is not None else "—"
        after = _meta_value(new, name)
        if before != after:
            meta.append({"label": label, "before": before, "after": after})
    return {
        "entry": compare_rules(old.entry_rule if old else None, new.entry_rule, labels),
        "exit": compare_rules(old.exit_rule if old else None, new.exit_rule, labels),
        "meta": meta,
    }
