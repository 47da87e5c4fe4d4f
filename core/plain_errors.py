"""Error messages as people read them on pages.

Services and the API keep precise messages ("must match ^[a-z0-9]...$",
"guard 3: ..."); pages show them through ``plain_error``: the field by its
label, the message in words. A message no rule here knows is shown as it is.
"""

from __future__ import annotations

import re

from .errors import ErrorDetail
from .words import plain

FIELD_LABELS = {
    "key": "Key",
    "name": "Name",
    "description": "Description",
    "purpose": "Purpose",
    "therapy_area": "Therapy area",
    "indications": "Indications",
    "parent": "Parent segment",
    "asset": "Asset",
    "segment": "Segment",
    "destination": "Destination",
    "channels": "Channels",
    "expires_at": "Expiry date",
    "mlr_reference": "MLR reference",
    "password": "Password",
    "comment": "Comment",
    "reason": "Reason",
    "team": "Team",
    "decision": "Decision",
    "holdout_percent": "Holdout",
    "file": "File",
    "kind": "Kind of data",
    "code": "Asset code",
    "title": "Title",
    "audience": "Audience",
    "intent": "Intent",
    "status": "Status",
    "link": "Link",
    "rationale": "Rationale",
}

GUARDS = {
    "1": "Approval check",
    "2": "Audience check",
    "3": "Purpose check",
    "4": "Label check (no off-label use)",
}

TYPE_WORDS = {
    "string": "text",
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "list": "a list",
    "dict": "a group of settings",
    "object": "a group of settings",
    "null": "nothing",
    "None": "nothing",
    "bool": "yes or no",
    "boolean": "yes or no",
}

KEY_RULE = (
    "use only lower-case letters, digits, - and _, start with a letter or digit, "
    "and be at most 64 characters long"
)


def _type(word: str) -> str:
    return TYPE_WORDS.get(word, word)


def _expected(words: str) -> str:
    return TYPE_WORDS.get(words, f"a {words}")


_RULES: list[tuple[re.Pattern, object]] = [
    (
        re.compile(r"^must match \^\[a-z0-9\]\[a-z0-9_-\]\{0,63\}\$.*$"),
        lambda m: f"must {KEY_RULE}.",
    ),
    (
        re.compile(r"^invalid segment key \(expected .*\)$"),
        lambda m: f"is not a segment key: a key must {KEY_RULE}.",
    ),
    (
        re.compile(r"^expected (?:a |an )?([\w ]+?), got (\w+)$"),
        lambda m: (
            f"should be {_type(m[1]) if m[1] in TYPE_WORDS else 'a ' + m[1]}, not {_type(m[2])}."
        ),
    ),
    (
        re.compile(r"^guard (\d): (.*)$", re.S),
        lambda m: f"{GUARDS.get(m[1], 'Check')}: {_plain_sentence(m[2])}",
    ),
    (
        re.compile(
            r"^segment (\S+) has no approved content mapping whose asset lists the channel '(\w+)'$"
        ),
        lambda m: (
            f"Segment {m[1]} has no approved content for the {plain(m[2])} channel yet. "
            f"Propose an asset approved for {plain(m[2])} and ask compliance to approve the "
            "mapping before publishing."
        ),
    ),
    (re.compile(r"^this field is required\.?$", re.I), lambda m: "is required."),
    (
        re.compile(r"^not valid JSON: (.*)$"),
        lambda m: f"cannot be read ({m[1]}); check the rule builder.",
    ),
]

_CODES = re.compile(r"'([a-z][a-z0-9]*(?:_[a-z0-9]+)+)'")


def _plain_sentence(text: str) -> str:
    text = text.replace("mlr_status", "MLR status")
    return _CODES.sub(lambda m: f"“{plain(m[1])}”", text)


def plain_message(message: str) -> str:
    for pattern, make in _RULES:
        match = pattern.match(message.strip())
        if match:
            return make(match)
    return message


def field_label(path: str) -> str:
    """A field's label from its path (``indications[2]`` -> "Indications"); a path the
    pages already spelled out ("Entry rule, condition 2, value") is kept."""
    if not path:
        return ""
    root = re.split(r"[.\[]", path, maxsplit=1)[0]
    if root in FIELD_LABELS:
        return FIELD_LABELS[root]
    if " " in path or path[:1].isupper():
        return path
    return plain(path).capitalize()


def plain_error(error: ErrorDetail) -> ErrorDetail:
    return ErrorDetail(path=field_label(error.path), message=plain_message(error.message))


def plain_errors(errors) -> list[ErrorDetail]:
    out, seen = [], set()
    for error in errors or ():
        item = plain_error(error) if isinstance(error, ErrorDetail) else error
        key = (getattr(item, "path", ""), getattr(item, "message", str(item)))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
