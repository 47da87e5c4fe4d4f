"""Codes read as words: ``heart_failure`` -> "heart failure", ``copd`` -> "COPD".

The one helper pages use for every code they show: indications, channels,
specialties, states and statuses (MLR, versions, publications, syncs), role and
team names, kinds of imports and destinations, audit actions
(``asset.withdrawn`` -> "asset withdrawn"). Templates call it as ``|plain``
(``|plain_list`` for lists), badges through it too; error paths and messages go
through ``core.plain_errors``, which uses it. The API keeps the codes.
"""

from __future__ import annotations

import re

ACRONYMS = frozenset({"copd", "hcp", "hcps", "mlr", "nrx", "trx", "npi", "crm", "csv", "url", "id"})
SPECIAL = {
    "rep_visit": "rep visit",
    "in_review": "in review",
    "non_small_cell_lung_cancer": "non-small cell lung cancer",
    "type_2_diabetes": "type 2 diabetes",
    "type_1_diabetes": "type 1 diabetes",
    "new_patient_starts": "new patient starts",
    "field_lead": "field lead",
    "content_revoked": "content revoked",
}
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def plain(code) -> str:
    """A code in words, lower case except acronyms; anything else unchanged."""
    if code is None:
        return ""
    text = str(code)
    if text in SPECIAL:
        return SPECIAL[text]
    if "." in text and _DOTTED.match(text):  # an audit action: "mapping.revoked"
        return " ".join(plain(part) for part in text.split("."))
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in text.split("_"))


def plain_list(codes) -> str:
    return ", ".join(plain(c) for c in codes or ())


def label(code) -> str:
    """A code as a form choice's label: its words with a capital first letter
    ("rep_visit" -> "Rep visit", "copd" -> "COPD")."""
    text = plain(code)
    return text[:1].upper() + text[1:]


def with_article(word: str) -> str:
    """``word`` after "a" or "an" by its first letter ("a withdrawn", "an approved")."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
