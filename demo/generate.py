"""Synthetic demo data as pandas frames, one chunk of customers at a time.

Pure computation: no database, no clock. Everything is drawn from numpy
Generators seeded by ``(seed, stream, chunk index)``, so the same plan (seed,
customer count, anchor date) always gives the same rows, whatever the machine.
Frames carry the database column names of the target tables so a writer can
load them as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from customers.vocabularies import AccountType, FormularyStatus

from . import catalog

CHUNK_SIZE = 20_000
# Interaction keys are packed into one int64 per row for de-duplication; the
# customer's position inside its chunk gets 15 bits.
_MAX_CHUNK = 1 << 15
ACCOUNTS_PER_CUSTOMER = 1 / 20
MAX_ACCOUNTS = 50_000
MIN_ACCOUNTS = 40
HISTORY_DAYS = 730  # two years of engagement before the anchor
RX_MONTHS = 12

# One independent random stream per kind of data (SeedSequence entropy).
_ACCOUNTS, _CUSTOMERS, _ATTRIBUTES, _INTERACTIONS, _RX, _NPI = 1, 2, 3, 4, 5, 6

SPECIALTY_WEIGHTS: dict[str, float] = {
    # Weighted to a cardiometabolic brand: cardiology, endocrinology, primary care,
    # NPs, pharmacists, nephrology; a thin tail of everyone else.
    "cardiology": 0.16,
    "endocrinology": 0.08,
    "internal_medicine": 0.20,
    "family_medicine": 0.18,
    "nurse_practitioner": 0.09,
    "pharmacy": 0.06,
    "nephrology": 0.05,
    "pulmonology": 0.02,
    "gastroenterology": 0.015,
    "neurology": 0.015,
    "oncology": 0.015,
    "hematology": 0.005,
    "rheumatology": 0.01,
    "dermatology": 0.005,
    "psychiatry": 0.01,
    "infectious_disease": 0.005,
    "pediatrics": 0.01,
    "obstetrics_gynecology": 0.015,
    "other": 0.025,
}
SPECIALTIES = np.array(list(SPECIALTY_WEIGHTS), dtype=object)
_SPECIALTY_P = np.array(list(SPECIALTY_WEIGHTS.values())) / sum(SPECIALTY_WEIGHTS.values())
_SPEC = {name: i for i, name in enumerate(SPECIALTIES)}

# Professional profile of a specialty: decides credential, role and workplace.
PHYSICIAN, NURSE_PRACTITIONER, PHARMACIST, OTHER_CLINICIAN = 0, 1, 2, 3
_PROFILE_OF_SPECIALTY = np.array(
    [
        NURSE_PRACTITIONER
        if s == "nurse_practitioner"
        else PHARMACIST
        if s == "pharmacy"
        else OTHER_CLINICIAN
        if s == "other"
        else PHYSICIAN
        for s in SPECIALTIES
    ]
)

# Weights below follow the vocabulary's order (data.md's order).
ACCOUNT_TYPES = tuple(AccountType.values)
_ACCOUNT_TYPE_SHARE = (0.05, 0.18, 0.03, 0.20, 0.35, 0.05, 0.04, 0.07, 0.02, 0.01)
_ACCOUNT_PREFIX = ("HS", "HOSP", "AMC", "CLIN", "PRAC", "INF", "SPRX", "RTRX", "PAY", "GPO")
_AT = {name: i for i, name in enumerate(ACCOUNT_TYPES)}
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
FORMULARY_STATUSES = np.array(FormularyStatus.values, dtype=object)
_FORMULARY_P = (0.25, 0.35, 0.20, 0.12, 0.08)
# Share of accounts of each type that report a formulary status for the brand.
_FORMULARY_SHARE = (0.6, 0.4, 0.5, 0, 0, 0, 0.3, 0, 0.9, 0.5)

_DECILE_P = np.array([0.20, 0.16, 0.13, 0.11, 0.09, 0.08, 0.07, 0.06, 0.055, 0.045])
_DECILE_P = _DECILE_P / _DECILE_P.sum()

CHANNELS = np.array(
    [
        "email",
        "rep_visit",
        "remote_detail",
        "phone",
        "webinar",
        "portal",
        "congress",
        "speaker_program",
    ],
    dtype=object,
)
_CH = {name: i for i, name in enumerate(CHANNELS)}
_CHANNEL_P = np.array([0.42, 0.18, 0.06, 0.06, 0.07, 0.13, 0.03, 0.05])
KINDS = np.array(
    [
        "sent",
        "opened",
        "clicked",
        "attended",
        "registered",
        "downloaded",
        "visited",
        "requested_info",
        "called",
    ],
    dtype=object,
)
_K = {name: i for i, name in enumerate(KINDS)}
# The first step of each channel's funnel.
_FIRST_KIND = np.array(
    [
        _K["sent"],
        _K["visited"],
        _K["attended"],
        _K["called"],
        _K["registered"],
        _K["visited"],
        _K["attended"],
        _K["registered"],
    ]
)
# UTC hours in which each channel's first step happens (US business hours,
# emails in the morning, portal at any time, dinner speaker programs late).
_HOURS = np.array([(11, 17), (13, 22), (13, 23), (13, 23), (17, 18), (0, 24), (13, 22), (23, 24)])
_FIELD_CHANNELS = np.array([False, True, True, True, True, False, False, True])
# Share of first steps that carry no asset code.
_NO_ASSET = np.array([0.0, 0.4, 0.3, 0.85, 0.2, 0.0, 1.0, 0.5])
TOPICS = np.array(
    [
        "mechanism_of_action",
        "efficacy",
        "safety",
        "dosing",
        "patient_selection",
        "access",
        "patient_support",
        "disease_education",
    ],
    dtype=object,
)
_TOPIC_P = np.array([0.12, 0.22, 0.12, 0.10, 0.10, 0.12, 0.08, 0.14])
ASSET_CODES = np.array([a[0] for a in catalog.DEMO_ASSET_CODES], dtype=object)
# Category lists with "" first: code 0 is a missing (blank) topic or asset.
_BLANK_TOPICS = ["", *TOPICS]
_BLANK_ASSETS = ["", *ASSET_CODES]
_ASSET_TOPIC = np.array([list(TOPICS).index(a[2]) for a in catalog.DEMO_ASSET_CODES])
_AREAS = ("cardiology", "endocrinology", "nephrology")
_ASSET_AREA = np.array([_AREAS.index(a[3]) for a in catalog.DEMO_ASSET_CODES])
# Touchpoints (funnel first steps) per customer before decile and propensity;
# tuned so the average customer has about 20 interaction rows.
TOUCHES_PER_CUSTOMER = 18.2

PRODUCTS = np.array(catalog.PRODUCTS, dtype=object)
# Probability that a prescriber of a specialty writes each product at all.
_RX_AFFINITY_DEFAULT = (0.03, 0.03, 0.01, 0.05, 0.05)
_RX_AFFINITY = {
    #                    CARDIOZEN GLUCOVANT RENALIX VASTORIN METAFORA
    "cardiology": (0.75, 0.15, 0.15, 0.80, 0.20),
    "endocrinology": (0.20, 0.80, 0.15, 0.20, 0.85),
    "nephrology": (0.30, 0.20, 0.80, 0.30, 0.25),
    "internal_medicine": (0.35, 0.40, 0.12, 0.45, 0.50),
    "family_medicine": (0.25, 0.35, 0.05, 0.35, 0.45),
    "nurse_practitioner": (0.25, 0.30, 0.05, 0.30, 0.35),
}
_RX_BASE = np.array([6.0, 8.0, 4.0, 10.0, 12.0])  # monthly TRx of a typical writer
_RX_NEW_SHARE = np.array([0.40, 0.35, 0.35, 0.25, 0.25])  # NRx share of TRx


def _rng(seed: int, stream: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, index]))


@dataclass(frozen=True)
class DemoPlan:
    """What to generate: ``customers`` HCPs from ``seed``, engagement ending at ``anchor``.

    Interactions happen in the two years before ``anchor`` 00:00 UTC; rx facts
    cover the twelve full months before the anchor's month.
    """

    customers: int
    seed: int
    anchor: date
    chunk_size: int = CHUNK_SIZE

    def __post_init__(self) -> None:
        if self.customers < 0:
            raise ValueError("customers must be >= 0")
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if not 0 < self.chunk_size <= _MAX_CHUNK:
            raise ValueError(f"chunk_size must be between 1 and {_MAX_CHUNK}")

    @property
    def account_count(self) -> int:
        return min(MAX_ACCOUNTS, max(MIN_ACCOUNTS, round(self.customers * ACCOUNTS_PER_CUSTOMER)))

    @property
    def anchor_epoch_day(self) -> int:
        return (self.anchor - date(1970, 1, 1)).days

    @property
    def rx_months(self) -> list[date]:
        first = self.anchor.replace(day=1)
        months = []
        for _ in range(RX_MONTHS):
            first = (first - timedelta(days=1)).replace(day=1)
            months.append(first)
        return months[::-1]

    def chunks(self) -> Iterator[tuple[int, int, int]]:
        """(chunk index, first customer index, end customer index)."""
        for index, start in enumerate(range(0, self.customers, self.chunk_size)):
            yield index, start, min(start + self.chunk_size, self.customers)


# ---------------------------------------------------------------- places


@dataclass(frozen=True)
class _Places:
    codes: np.ndarray
    p: np.ndarray
    zip_lo: np.ndarray
    zip_hi: np.ndarray
    cities: tuple[tuple[str, ...], ...]
    territories: tuple[tuple[str, ...], ...]

    def pick_states(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.codes), size=n, p=self.p)

    def zips(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        zip3 = rng.integers(self.zip_lo[states], self.zip_hi[states] + 1)
        return zip3 * 100 + rng.integers(0, 100, size=len(states))

    def territory_codes(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        """One territory per state index; a split state picks one of its territories."""
        pick = rng.random(len(states))
        out = np.empty(len(states), dtype=object)
        for s in np.unique(states):
            options = self.territories[s]
            mask = states == s
            out[mask] = np.array(options, dtype=object)[
                np.minimum((pick[mask] * len(options)).astype(int), len(options) - 1)
            ]
        return out


def _places() -> _Places:
    by_state: dict[str, list[str]] = {}
    for code, _name, states in catalog.TERRITORIES:
        for state in states:
            by_state.setdefault(state, []).append(code)
    population = np.array([s[2] for s in catalog.STATES])
    return _Places(
        codes=np.array([s[0] for s in catalog.STATES], dtype=object),
        p=population / population.sum(),
        zip_lo=np.array([s[3] for s in catalog.STATES]),
        zip_hi=np.array([s[4] for s in catalog.STATES]),
        cities=tuple(s[5] for s in catalog.STATES),
        territories=tuple(tuple(by_state[s[0]]) for s in catalog.STATES),
    )


PLACES = _places()


def territories_frame() -> pd.DataFrame:
    """Every demo territory: ``code``, ``name``."""
    return pd.DataFrame(
        {"code": [t[0] for t in catalog.TERRITORIES], "name": [t[1] for t in catalog.TERRITORIES]}
    )


def _zip_strings(zips: np.ndarray) -> np.ndarray:
    return np.char.zfill(zips.astype(str), 5).astype(object)


def _nullable_int(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), missing.astype(bool))


def _blank_where(values: np.ndarray, mask: np.ndarray, blank: object = "") -> np.ndarray:
    out = values.astype(object, copy=True)
    out[mask] = blank
    return out


# ---------------------------------------------------------------- accounts


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


# ---------------------------------------------------------------- customers


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


# ---------------------------------------------------------------- interactions


def _congress_days(plan: DemoPlan) -> np.ndarray:
    """Epoch days of the congresses held in the history window."""
    first = plan.anchor - timedelta(days=HISTORY_DAYS)
    days = [
        (date(year, month, day) - date(1970, 1, 1)).days
        for year in range(first.year, plan.anchor.year + 1)
        for month, day in catalog.CONGRESS_DAYS
        if first <= date(year, month, day) < plan.anchor
    ]
    return np.array(days or [plan.anchor_epoch_day - 1], dtype=np.int64)


def generate_interactions(plan: DemoPlan, chunk: CustomerChunk, index: int) -> pd.DataFrame:
    """Engagement funnels over the two years before the anchor, sorted by customer and time.

    Each touchpoint starts a channel's funnel (email sent -> opened -> clicked,
    webinar and speaker program registered -> attended, portal visited ->
    downloaded / requested_info, rep visit visited -> requested_info, phone
    called -> requested_info, remote detail and congress attended). Higher
    deciles get more touchpoints and open more emails; opted-out customers get
    no email. Columns: customer_id, occurred_at (datetime64, UTC), channel,
    kind, topic, asset (categoricals; "" when missing).
    """
    rng = _rng(plan.seed, _INTERACTIONS, index)
    n = len(chunk.ids)
    decile_weight = np.where(chunk.decile > 0, 0.45 + 0.11 * chunk.decile, 0.7)
    propensity = rng.gamma(2.0, 0.5, n) * (rng.random(n) >= 0.04)  # a few never engage
    profile_weight = np.where(np.isin(chunk.profile, [PHARMACIST, OTHER_CLINICIAN]), 0.6, 1.0)
    touches = rng.poisson(TOUCHES_PER_CUSTOMER * decile_weight * propensity * profile_weight)
    who = np.repeat(np.arange(n), touches)
    m = len(who)

    channel = rng.choice(len(CHANNELS), size=m, p=_CHANNEL_P)
    opted_out = chunk.email_opt_out[who] & (channel == _CH["email"])
    channel[opted_out] = np.where(
        rng.random(opted_out.sum()) < 0.5, _CH["portal"], _CH["rep_visit"]
    )

    # Recent months a little busier than older ones; the span leaves room for
    # moving field work off weekends (up to two days earlier) inside the window.
    days_back = np.floor((HISTORY_DAYS - 2) * rng.random(m) ** 1.25).astype(np.int64)
    day = plan.anchor_epoch_day - 1 - days_back
    congress = channel == _CH["congress"]
    congress_days = _congress_days(plan)
    day[congress] = congress_days[rng.integers(0, len(congress_days), congress.sum())]
    weekday = (day + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    field_channel = _FIELD_CHANNELS[channel]
    day = day - np.where(field_channel & (weekday == 5), 1, 0)
    day = day - np.where(field_channel & (weekday == 6), 2, 0)
    hours = _HOURS[channel]
    seconds = rng.integers(hours[:, 0] * 3600, hours[:, 1] * 3600)
    start = day * 86_400 + seconds

    # Content: customers see their therapy area's assets most of the time.
    area = np.select(
        [chunk.specialty == _SPEC["endocrinology"], chunk.specialty == _SPEC["nephrology"]],
        [1, 2],
        0,
    )[who]
    primary_care = np.isin(
        chunk.specialty[who], [_SPEC["internal_medicine"], _SPEC["family_medicine"]]
    )
    area = np.where(primary_care, rng.choice(3, size=m, p=(0.5, 0.35, 0.15)), area)
    asset = rng.integers(0, len(ASSET_CODES), m)
    for a in range(len(_AREAS)):
        pool = np.flatnonzero(_ASSET_AREA == a)
        mask = (area == a) & (rng.random(m) < 0.8)
        asset[mask] = pool[rng.integers(0, len(pool), mask.sum())]
    no_asset = rng.random(m) < _NO_ASSET[channel]
    topic = np.where(no_asset, rng.choice(len(TOPICS), size=m, p=_TOPIC_P), _ASSET_TOPIC[asset])
    topic = np.where(no_asset & (rng.random(m) < 0.10), -1, topic)
    asset = np.where(no_asset, -1, asset)

    parts = [(np.arange(m), start, _FIRST_KIND[channel])]

    def follow(mask: np.ndarray, after: np.ndarray, kind: str) -> np.ndarray:
        parts.append((np.flatnonzero(mask), after[mask], np.full(mask.sum(), _K[kind])))
        return after

    decile = chunk.decile[who]
    u = rng.random((4, m))
    email = channel == _CH["email"]
    opened = email & (u[0] < 0.22 + 0.025 * decile)
    open_at = follow(opened, start + 60 + rng.exponential(6 * 3600, m).astype(np.int64), "opened")
    follow(
        opened & (u[1] < 0.3), open_at + 30 + rng.exponential(300, m).astype(np.int64), "clicked"
    )
    webinar = channel == _CH["webinar"]
    follow(webinar & (u[0] < 0.55), start + 86_400 * rng.integers(1, 22, m), "attended")
    speaker = channel == _CH["speaker_program"]
    follow(speaker & (u[0] < 0.7), start + 86_400 * rng.integers(3, 31, m), "attended")
    portal = channel == _CH["portal"]
    follow(portal & (u[0] < 0.4), start + rng.integers(30, 900, m), "downloaded")
    follow(portal & (u[1] < 0.04), start + rng.integers(60, 1800, m), "requested_info")
    visit = channel == _CH["rep_visit"]
    follow(visit & (u[2] < 0.07), start + rng.integers(120, 3600, m), "requested_info")
    phone = channel == _CH["phone"]
    follow(phone & (u[3] < 0.1), start + rng.integers(60, 600, m), "requested_info")

    touch = np.concatenate([p[0] for p in parts])
    at = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts])
    keep = at < plan.anchor_epoch_day * 86_400  # follow-ups after the anchor did not happen yet
    touch, at, kind = touch[keep], at[keep], kind[keep]

    # Pack (customer, time, channel, kind, topic, asset) into one int64: sorting
    # orders rows by customer and time, and np.unique drops the rare exact
    # duplicate the natural key of data.md would refuse.
    base = (plan.anchor_epoch_day - HISTORY_DAYS - 5) * 86_400
    key = (
        (who[touch].astype(np.int64) << 42)
        | ((at - base) << 16)
        | (channel[touch].astype(np.int64) << 13)
        | (kind.astype(np.int64) << 9)
        | ((topic[touch] + 1).astype(np.int64) << 5)
        | (asset[touch] + 1).astype(np.int64)
    )
    _, first = np.unique(key, return_index=True)
    touch, at, kind = touch[first], at[first], kind[first]
    return pd.DataFrame(
        {
            "customer_id": chunk.ids[who[touch]],
            "occurred_at": at.astype("datetime64[s]"),
            "channel": pd.Categorical.from_codes(channel[touch], CHANNELS),
            "kind": pd.Categorical.from_codes(kind, KINDS),
            "topic": pd.Categorical.from_codes(topic[touch] + 1, _BLANK_TOPICS),
            "asset": pd.Categorical.from_codes(asset[touch] + 1, _BLANK_ASSETS),
        }
    )


# ---------------------------------------------------------------- rx


def generate_rx(plan: DemoPlan, chunk: CustomerChunk, index: int) -> pd.DataFrame:
    """Monthly rx facts of prescribers for the products they write, correlated with decile.

    A prescriber writes a product with a probability set by specialty and
    decile; volume grows with decile; CARDIOZEN (a launch brand) trends up over
    the year. Columns: customer_id, month, product, nrx, trx, new_patient_starts.
    """
    rng = _rng(plan.seed, _RX, index)
    n = len(chunk.ids)
    affinity = np.array([_RX_AFFINITY.get(s, _RX_AFFINITY_DEFAULT) for s in SPECIALTIES])[
        chunk.specialty
    ]
    decile = chunk.decile.astype(float)
    reach = np.where(decile > 0, np.minimum(1.0, 0.5 + 0.06 * decile), 0.6)
    writes = chunk.prescriber[:, None] & (
        rng.random((n, len(PRODUCTS))) < affinity * reach[:, None]
    )
    who, product = np.nonzero(writes)
    scale = np.where(decile[who] > 0, (decile[who] / 5) ** 1.3, 0.5)
    mu = _RX_BASE[product] * scale * rng.gamma(2.0, 0.5, len(who))
    months = len(plan.rx_months)
    trend = np.ones((len(PRODUCTS), months))
    trend[list(catalog.PRODUCTS).index("CARDIOZEN")] = np.linspace(0.6, 1.3, months)
    trx = rng.poisson(mu[:, None] * trend[product])
    nrx = rng.binomial(trx, _RX_NEW_SHARE[product][:, None])
    starts = rng.binomial(nrx, 0.5)
    month_text = [m.isoformat() for m in plan.rx_months]
    return pd.DataFrame(
        {
            "customer_id": np.repeat(chunk.ids[who], months),
            "month": pd.Categorical.from_codes(np.tile(np.arange(months), len(who)), month_text),
            "product": pd.Categorical.from_codes(np.repeat(product, months), PRODUCTS),
            "nrx": nrx.ravel(),
            "trx": trx.ravel(),
            "new_patient_starts": starts.ravel(),
        }
    )
