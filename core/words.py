"""Codes read as words: ``heart_failure`` -> "heart failure", ``copd`` -> "COPD".

Pages show vocabulary codes (indications, channels, specialties, states of things)
through ``plain``; the API keeps the codes.
"""

from __future__ import annotations

ACRONYMS = frozenset({"copd", "hcp", "hcps", "mlr", "nrx", "trx", "npi", "crm", "csv", "url", "id"})
SPECIAL = {
    "rep_visit": "rep visit",
    "in_review": "in review",
    "non_small_cell_lung_cancer": "non-small cell lung cancer",
    "type_2_diabetes": "type 2 diabetes",
    "type_1_diabetes": "type 1 diabetes",
    "new_patient_starts": "new patient starts",
    "field_lead": "field lead",
}


def plain(code) -> str:
    """A code in words, lower case except acronyms; anything else unchanged."""
    if code is None:
        return ""
    text = str(code)
    if text in SPECIAL:
        return SPECIAL[text]
    return " ".join(w.upper() if w.lower() in ACRONYMS else w for w in text.split("_"))


def plain_list(codes) -> str:
    return ", ".join(plain(c) for c in codes or ())
