"""The plan every generator follows, its random streams, and the traits all of them share.

``DemoPlan`` says what to generate; ``_rng`` gives each kind of data its own
numpy stream seeded by ``(seed, stream, chunk index)``. Specialties and
professional profiles live here because customers, interactions and rx all
read them; so do the small frame helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

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


# ---------------------------------------------------------------- frame helpers


def _nullable_int(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), missing.astype(bool))


def _blank_where(values: np.ndarray, mask: np.ndarray, blank: object = "") -> np.ndarray:
    out = values.astype(object, copy=True)
    out[mask] = blank
    return out
