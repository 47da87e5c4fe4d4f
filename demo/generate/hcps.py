"""Customers (HCPs with valid NPIs) and their custom attributes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import catalog
from .hcos import _AT, AccountIndex
from .places import PLACES, _zip_strings
from .plan import (
    _ATTRIBUTES,
    _CUSTOMERS,
    _NPI,
    _PROFILE_OF_SPECIALTY,
    _SPEC,
    _SPECIALTY_P,
    NURSE_PRACTITIONER,
    OTHER_CLINICIAN,
    PHARMACIST,
    PHYSICIAN,
    SPECIALTIES,
    DemoPlan,
    _blank_where,
    _nullable_int,
    _rng,
)

# Where each profile works: weights over "no account" (index 0) then ACCOUNT_TYPES.
_WORKPLACE = {
    PHYSICIAN: (0.15, 0.01, 0.22, 0.10, 0.20, 0.30, 0.01, 0, 0, 0.01, 0),
    NURSE_PRACTITIONER: (0.15, 0, 0.20, 0, 0.30, 0.35, 0, 0, 0, 0, 0),
    PHARMACIST: (0.10, 0.05, 0.20, 0, 0, 0, 0, 0.15, 0.40, 0.07, 0.03),
    OTHER_CLINICIAN: (0.20, 0, 0.40, 0, 0.25, 0.10, 0.05, 0, 0, 0, 0),
}
_SETTING_OF_ACCOUNT_TYPE = np.array(
    [
        "hospital",  # health_system: its staff work in its hospitals
        "hospital",
        "academic_center",
        "outpatient_clinic",
        "community_practice",
        "infusion_center",
        "pharmacy",
        "pharmacy",
        "",  # payer: not a practice setting
        "",  # gpo
    ],
    dtype=object,
)

_DECILE_P = np.array([0.20, 0.16, 0.13, 0.11, 0.09, 0.08, 0.07, 0.06, 0.055, 0.045])
_DECILE_P = _DECILE_P / _DECILE_P.sum()


def npis(seed: int, start: int, stop: int) -> np.ndarray:
    """Unique valid NPIs for customer indexes [start, stop).

    The first nine digits are ``1`` followed by an affine bijection of the
    index modulo 10**8 (so no two customers of one seed share an NPI); the
    tenth is the Luhn check digit over ``80840`` + those nine digits.
    """
    rng = _rng(seed, _NPI)
    multiplier = int(rng.integers(10**6, 10**7)) | 1
    if multiplier % 5 == 0:
        multiplier += 2  # coprime with 10**8: odd and not a multiple of 5
    offset = int(rng.integers(0, 10**8))
    index = np.arange(start, stop, dtype=np.int64)
    body = 100_000_000 + (index * multiplier + offset) % 100_000_000
    digits = (body[:, None] // 10 ** np.arange(8, -1, -1)) % 10  # nine digits, left to right
    doubled = digits[:, 0::2] * 2  # positions 1, 3, 5, 7, 9: every other one from the right
    total = 24 + (doubled - 9 * (doubled > 9)).sum(axis=1) + digits[:, 1::2].sum(axis=1)
    check = (10 - total % 10) % 10  # 24 is the fixed contribution of the 80840 prefix
    return (body * 10 + check).astype(str).astype(object)


@dataclass(frozen=True)
class CustomerChunk:
    """A chunk of customers: the table rows plus the hidden traits engagement depends on."""

    frame: pd.DataFrame
    ids: np.ndarray
    specialty: np.ndarray  # index into SPECIALTIES
    profile: np.ndarray
    prescriber: np.ndarray  # bool, whether or not the role column is filled
    decile: np.ndarray  # 0 when unknown
    email_opt_out: np.ndarray


def generate_customers(
    plan: DemoPlan, accounts: AccountIndex, index: int, start: int, stop: int, first_id: int
) -> CustomerChunk:
    """Customers ``start`` .. ``stop - 1`` (ids from ``first_id + start``)."""
    rng = _rng(plan.seed, _CUSTOMERS, index)
    n = stop - start
    specialty = rng.choice(len(SPECIALTIES), size=n, p=_SPECIALTY_P)
    profile = _PROFILE_OF_SPECIALTY[specialty]

    u = rng.random(n)
    credential = np.select(
        [
            profile == PHYSICIAN,
            profile == NURSE_PRACTITIONER,
            profile == PHARMACIST,
        ],
        [
            np.where(u < 0.84, "MD", np.where(u < 0.97, "DO", "PA")),
            "NP",
            np.where(u < 0.96, "PharmD", "other"),
        ],
        np.where(u < 0.5, "RN", np.where(u < 0.8, "PA", "other")),
    ).astype(object)
    role = np.select(
        [
            np.isin(profile, [PHYSICIAN, NURSE_PRACTITIONER]) | (credential == "PA"),
            profile == PHARMACIST,
            credential == "RN",
        ],
        ["prescriber", "pharmacist", "nurse"],
        "care_coordinator",
    ).astype(object)

    # Workplace: no account, or an account of a type that fits the profile.
    workplace = np.empty(n, dtype=int)
    for prof, weights in _WORKPLACE.items():
        mask = profile == prof
        p = np.array(weights) / sum(weights)
        workplace[mask] = rng.choice(len(p), size=mask.sum(), p=p) - 1  # -1: no account
    account_row = np.full(n, -1)
    for t, (rows, p) in accounts.by_type.items():
        mask = workplace == t
        if mask.any() and len(rows):
            account_row[mask] = rows[rng.choice(len(rows), size=mask.sum(), p=p)]
    affiliated = account_row >= 0
    acc = np.maximum(account_row, 0)
    acc_type = np.where(affiliated, accounts.types[acc], -1)
    # Pharmacists and physicians at payers, GPOs and health systems sit on P&T committees.
    decides_formulary = np.isin(acc_type, [_AT["payer"], _AT["gpo"], _AT["health_system"]]) | (
        (profile == PHARMACIST) & (acc_type == _AT["hospital"]) & (rng.random(n) < 0.15)
    )
    role = np.where(decides_formulary, "formulary_decision_maker", role).astype(object)
    prescriber = role == "prescriber"

    own_setting = np.select(
        [profile == PHARMACIST, profile == OTHER_CLINICIAN],
        ["pharmacy", "outpatient_clinic"],
        np.where(rng.random(n) < 0.6, "community_practice", "outpatient_clinic"),
    ).astype(object)
    setting = np.where(affiliated, _SETTING_OF_ACCOUNT_TYPE[np.maximum(acc_type, 0)], own_setting)

    own_state = PLACES.pick_states(rng, n)
    state = np.where(affiliated, accounts.states[acc], own_state)
    own_zip = _zip_strings(PLACES.zips(rng, state))
    account_zip = accounts.zips[acc]
    zips = np.where(affiliated & (account_zip != ""), account_zip, own_zip).astype(object)
    own_territory = PLACES.territory_codes(rng, state)
    account_territory = accounts.territories[acc]
    territory = np.where(
        affiliated & pd.notna(account_territory),
        account_territory,
        own_territory,
    ).astype(object)

    # Deciles: many low, few 9-10; focus specialties skew up, non-prescribers
    # mostly have none.
    decile = rng.choice(np.arange(1, 11), size=n, p=_DECILE_P)
    focus = np.isin(specialty, [_SPEC["cardiology"], _SPEC["endocrinology"], _SPEC["nephrology"]])
    decile = np.clip(decile + (focus & (rng.random(n) < 0.5)), 1, 10)
    decile = np.where(~prescriber, np.clip(decile - 2, 1, 10), decile)
    decile_missing = np.where(prescriber, rng.random(n) < 0.07, rng.random(n) < 0.6)
    decile = np.where(decile_missing, 0, decile)

    email_opt_out = rng.random(n) < 0.08
    first = np.array(catalog.FIRST_NAMES, dtype=object)[
        rng.integers(0, len(catalog.FIRST_NAMES), n)
    ]
    last = np.array(catalog.LAST_NAMES, dtype=object)[rng.integers(0, len(catalog.LAST_NAMES), n)]
    ids = np.arange(first_id + start, first_id + stop, dtype=np.int64)

    # Source systems leave optional fields empty now and then.
    missing = rng.random((7, n))
    frame = pd.DataFrame(
        {
            "id": ids,
            "npi": npis(plan.seed, start, stop),
            "first_name": first,
            "last_name": last,
            "credential": _blank_where(credential, missing[0] < 0.06),
            "specialty": SPECIALTIES[specialty],
            "role": _blank_where(role, missing[1] < 0.05),
            "practice_setting": _blank_where(setting, missing[2] < 0.06),
            "account_id": np.where(affiliated, accounts.ids[acc], None),
            "state": _blank_where(PLACES.codes[state], missing[3] < 0.04),
            "zip": _blank_where(zips, missing[4] < 0.05),
            "territory_id": _blank_where(territory, missing[5] < 0.05, None),
            "decile": _nullable_int(decile, decile == 0),
            "email_opt_out": email_opt_out,
        }
    )
    return CustomerChunk(
        frame=frame,
        ids=ids,
        specialty=specialty,
        profile=profile,
        prescriber=prescriber,
        decile=decile,
        email_opt_out=email_opt_out,
    )


# ---------------------------------------------------------------- attributes

ADOPTION_STAGES = np.array(["early", "mainstream", "late", "laggard"], dtype=object)
_ADOPTION_P = {  # by decile band: 1-3 (and unknown), 4-7, 8-10
    0: (0.07, 0.28, 0.38, 0.27),
    1: (0.15, 0.40, 0.30, 0.15),
    2: (0.35, 0.40, 0.18, 0.07),
}


def generate_attributes(plan: DemoPlan, chunk: CustomerChunk, index: int) -> pd.DataFrame:
    """Custom attributes ``adoption_stage`` and ``patient_volume`` (missing for some).

    Columns: customer_id, key, value, number (the decimal parse of value, or NULL).
    """
    rng = _rng(plan.seed, _ATTRIBUTES, index)
    n = len(chunk.ids)
    band = np.select([chunk.decile >= 8, chunk.decile >= 4], [2, 1], 0)
    stage = np.empty(n, dtype=object)
    for b, p in _ADOPTION_P.items():
        mask = band == b
        stage[mask] = ADOPTION_STAGES[rng.choice(4, size=mask.sum(), p=p)]
    has_stage = rng.random(n) >= 0.10
    # Monthly patient volume grows with decile; pharmacists report none.
    volume = np.round(
        rng.lognormal(np.log(30 + 12 * np.where(chunk.decile > 0, chunk.decile, 4)), 0.5)
    ).astype(np.int64)
    has_volume = (rng.random(n) >= 0.15) & (chunk.profile != PHARMACIST)
    stages = pd.DataFrame(
        {
            "customer_id": chunk.ids[has_stage],
            "key": "adoption_stage",
            "value": stage[has_stage],
            "number": None,
        }
    )
    volumes = pd.DataFrame(
        {
            "customer_id": chunk.ids[has_volume],
            "key": "patient_volume",
            "value": volume[has_volume].astype(str).astype(object),
            "number": volume[has_volume].astype(str).astype(object),
        }
    )
    frame = pd.concat([stages, volumes], ignore_index=True)
    return frame.sort_values(["customer_id", "key"], kind="stable", ignore_index=True)
