"""Rule errors as people read them (docs/rules.md): where in the rule, and what is wrong.

The services name a problem by its JSON path (``entry_rule.all[0].value``) for API
clients; pages show "Entry rule, condition 1, value: ..." instead, without the
pointers to API endpoints, and show each problem once.
"""

from __future__ import annotations

import re

from core.errors import ErrorDetail
from core.plain_errors import plain_message

RULE_ROOTS = {"entry_rule": "Entry rule", "exit_rule": "Exit rule"}
_API_HINT = re.compile(r"\s*\(see (GET )?/api/[^)]*\)")
_TOKEN = re.compile(r"\[(\d+)\]|([A-Za-z_]+)")
_WORDS = {"op": "operator", "value": "value", "field": "field", "segment": "segment"}


def is_rule_error(error: ErrorDetail) -> bool:
    """True for an error about a node of the entry or exit rule."""
    return error.path.split(".")[0].split("[")[0] in RULE_ROOTS


def where(path: str) -> str:
    """``entry_rule.all[1].any[0].op`` -> ``Entry rule, condition 2, condition 1, operator``."""
    parts: list[str] = []
    for index, name in _TOKEN.findall(path):
        if index:
            parts.append(f"condition {int(index) + 1}")
        elif not parts:
            parts.append(RULE_ROOTS.get(name, name.replace("_", " ")))
        elif name in ("all", "any"):
            continue
        elif name == "not":
            parts.append("NOT group")
        else:
            parts.append(_WORDS.get(name, name.replace("_", " ")))
    return ", ".join(parts)


def readable(error: ErrorDetail) -> ErrorDetail:
    """The same error with a readable location and no API pointers."""
    message = plain_message(_API_HINT.sub("", error.message))
    return ErrorDetail(path=where(error.path) if error.path else "", message=message)


def readable_errors(errors) -> list[ErrorDetail]:
    """Readable copies, each problem once (the same path and message are shown once)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for error in errors:
        item = readable(error)
        if (item.path, item.message) not in seen:
            seen.add((item.path, item.message))
            out.append(item)
    return out


def builder_errors(errors) -> list[dict]:
    """What the rule builder places at the offending node: the JSON path (to find the
    node) and the readable message (to show there)."""
    return [
        {
            "path": e.path,
            "message": plain_message(_API_HINT.sub("", e.message)),
            "where": where(e.path),
        }
        for e in errors
        if is_rule_error(e)
    ]


def scope_warning(rule) -> str:
    """A warning for a rule that, by its shape, selects everyone or no one (else "").

    An empty ALL group is true for every customer and an empty ANY group for none
    (docs/rules.md); saving one is allowed but must be confirmed.
    """
    if not isinstance(rule, dict) or len(rule) != 1:
        return ""
    ((kind, children),) = rule.items()
    if kind == "all" and children == []:
        return "This entry rule is an empty ALL group: it selects every customer."
    if kind == "any" and children == []:
        return "This entry rule is an empty ANY group: it selects no one."
    if kind == "not" and isinstance(children, dict):
        inner = scope_warning(children)
        if inner:
            return "This entry rule negates an empty group: it selects " + (
                "no one." if "every" in inner else "every customer."
            )
    return ""
