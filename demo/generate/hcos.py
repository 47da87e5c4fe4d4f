"""Accounts (health systems, hospitals, practices, pharmacies, payers, GPOs) and their index."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from customers.vocabularies import AccountType, FormularyStatus

from .. import catalog
from .places import PLACES, _zip_strings
from .plan import _ACCOUNTS, DemoPlan, _blank_where, _rng

# Weights below follow the vocabulary's order (docs/imports.md's order).
ACCOUNT_TYPES = tuple(AccountType.values)
_ACCOUNT_TYPE_SHARE = (0.05, 0.18, 0.03, 0.20, 0.35, 0.05, 0.04, 0.07, 0.02, 0.01)
_ACCOUNT_PREFIX = ("HS", "HOSP", "AMC", "CLIN", "PRAC", "INF", "SPRX", "RTRX", "PAY", "GPO")
_AT = {name: i for i, name in enumerate(ACCOUNT_TYPES)}
FORMULARY_STATUSES = np.array(FormularyStatus.values, dtype=object)
_FORMULARY_P = (0.25, 0.35, 0.20, 0.12, 0.08)
# Share of accounts of each type that report a formulary status for the brand.
_FORMULARY_SHARE = (0.6, 0.4, 0.5, 0, 0, 0, 0.3, 0, 0.9, 0.5)


def _account_name(rng: np.random.Generator, type_index: int, city: str, state: str) -> str:
    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    kind = ACCOUNT_TYPES[type_index]
    if kind == "health_system":
        return pick((f"{city} Health", f"{city} Health System", f"{pick(catalog.SAINTS)} Health"))
    if kind == "hospital":
        return pick(
            (
                f"{city} General Hospital",
                f"{pick(catalog.SAINTS)} Hospital {city}",
                f"{city} Memorial Hospital",
                f"{city} Regional Medical Center",
                f"{pick(catalog.SAINTS)} Medical Center",
            )
        )
    if kind == "academic_center":
        return pick((f"{city} University Hospital", f"University Medical Center of {city}"))
    if kind == "clinic":
        return f"{city} {pick(catalog.CLINIC_KINDS)}"
    if kind == "community_practice":
        return pick(
            (
                f"{pick(catalog.LAST_NAMES)} {pick(catalog.PRACTICE_KINDS)}",
                f"{pick(catalog.LAST_NAMES)} & {pick(catalog.LAST_NAMES)} "
                f"{pick(catalog.PRACTICE_KINDS)}",
                f"{city} {pick(catalog.PRACTICE_KINDS)} Group",
            )
        )
    if kind == "infusion_center":
        return f"{city} Infusion Center"
    if kind == "specialty_pharmacy":
        return f"{pick(catalog.SPECIALTY_PHARMACIES)} Specialty Pharmacy {city}"
    if kind == "retail_pharmacy":
        return f"{pick(catalog.PHARMACY_CHAINS)} Pharmacy #{int(rng.integers(100, 9999))}"
    if kind == "payer":
        return pick(
            (
                f"{pick(catalog.PAYER_WORDS)} Health Plan",
                f"{state} {pick(catalog.PAYER_WORDS)} Care",
            )
        )
    return f"{pick(catalog.PAYER_WORDS)} Purchasing Alliance"


def generate_accounts(plan: DemoPlan) -> pd.DataFrame:
    """Accounts in health-system hierarchies plus independents, parents first.

    Columns: account_id, name, account_type, parent_id, state, zip, territory_id,
    bed_count, formulary_status.
    """
    rng = _rng(plan.seed, _ACCOUNTS)
    total = plan.account_count
    counts = [max(1, int(total * share)) for share in _ACCOUNT_TYPE_SHARE]
    counts[_AT["community_practice"]] += max(0, total - sum(counts))
    types = np.repeat(np.arange(len(ACCOUNT_TYPES)), counts)
    n = len(types)
    ids = np.empty(n, dtype=object)
    position = 0
    for t, count in enumerate(counts):
        ids[position : position + count] = [
            f"{_ACCOUNT_PREFIX[t]}-{i:05d}" for i in range(1, count + 1)
        ]
        position += count

    states = PLACES.pick_states(rng, n)
    systems = np.flatnonzero(types == _AT["health_system"])
    # Hospitals, academic centers, clinics and infusion centers mostly belong to
    # a health system (and sit in its state); a few specialty pharmacies too.
    parent_share = np.zeros(len(ACCOUNT_TYPES))
    parent_share[[_AT["hospital"], _AT["clinic"], _AT["infusion_center"]]] = 0.75
    parent_share[_AT["academic_center"]] = 0.6
    parent_share[_AT["specialty_pharmacy"]] = 0.15
    has_parent = rng.random(n) < parent_share[types]
    parent_index = np.where(has_parent, systems[rng.integers(0, len(systems), size=n)], -1)
    states = np.where(has_parent, states[np.maximum(parent_index, 0)], states)

    zips = _blank_where(_zip_strings(PLACES.zips(rng, states)), rng.random(n) < 0.05)
    national = (types == _AT["payer"]) | (types == _AT["gpo"])
    territory = _blank_where(
        PLACES.territory_codes(rng, states), national | (rng.random(n) < 0.04), None
    )

    beds = np.full(n, np.nan)
    hospital = types == _AT["hospital"]
    academic = types == _AT["academic_center"]
    beds[hospital] = np.clip(rng.lognormal(np.log(180), 0.6, hospital.sum()), 15, 1500).round()
    beds[academic] = np.clip(rng.lognormal(np.log(650), 0.4, academic.sum()), 200, 2500).round()
    beds[hospital & (rng.random(n) < 0.05)] = np.nan
    # A health system's beds are those of its hospitals and academic centers.
    child_beds = np.where(parent_index >= 0, np.nan_to_num(beds), 0)
    system_beds = np.bincount(np.maximum(parent_index, 0), weights=child_beds, minlength=n)
    beds[systems] = np.where(system_beds[systems] > 0, system_beds[systems], np.nan)

    formulary = _blank_where(
        FORMULARY_STATUSES[rng.choice(len(FORMULARY_STATUSES), size=n, p=_FORMULARY_P)],
        rng.random(n) >= np.array(_FORMULARY_SHARE)[types],
    )
    names = np.empty(n, dtype=object)
    for i in range(n):
        cities = PLACES.cities[states[i]]
        city = cities[int(rng.integers(len(cities)))]
        names[i] = _account_name(rng, int(types[i]), city, PLACES.codes[states[i]])

    return pd.DataFrame(
        {
            "account_id": ids,
            "name": names,
            "account_type": np.array(ACCOUNT_TYPES, dtype=object)[types],
            "parent_id": np.where(parent_index >= 0, ids[np.maximum(parent_index, 0)], None),
            "state": PLACES.codes[states],
            "zip": zips,
            "territory_id": territory,
            "bed_count": pd.array(beds, dtype="Int64"),
            "formulary_status": formulary,
        }
    )


@dataclass(frozen=True)
class AccountIndex:
    """Lookups the customer generator needs from the generated accounts."""

    ids: np.ndarray
    types: np.ndarray
    states: np.ndarray  # index into PLACES
    zips: np.ndarray
    territories: np.ndarray
    by_type: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> AccountIndex:
        state_pos = {code: i for i, code in enumerate(PLACES.codes)}
        types = frame["account_type"].map(_AT).to_numpy()
        beds = frame["bed_count"].astype("Float64").fillna(150).to_numpy(dtype=float)
        by_type = {}
        for t in range(len(ACCOUNT_TYPES)):
            rows = np.flatnonzero(types == t)
            # Bigger hospitals employ more clinicians.
            weight = beds[rows] if t in (_AT["hospital"], _AT["academic_center"]) else None
            p = weight / weight.sum() if weight is not None else np.full(len(rows), 1 / len(rows))
            by_type[t] = (rows, p)
        return cls(
            ids=frame["account_id"].to_numpy(dtype=object),
            types=types,
            states=frame["state"].map(state_pos).to_numpy(),
            zips=frame["zip"].to_numpy(dtype=object),
            territories=frame["territory_id"].to_numpy(dtype=object),
            by_type=by_type,
        )
