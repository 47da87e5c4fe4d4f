"""Synthetic demo data as pandas frames, one chunk of customers at a time.

Pure computation: no database, no clock. Everything is drawn from numpy
Generators seeded by ``(seed, stream, chunk index)``, so the same plan (seed,
customer count, anchor date) always gives the same rows, whatever the machine.
Frames carry the database column names of the target tables so a writer can
load them as they are.

One module per job, each importing only the ones above it in this list:

- ``plan``: ``DemoPlan``, the random streams, specialties and profiles.
- ``places``: states, ZIP codes, cities and territories.
- ``hcos``: accounts and the ``AccountIndex`` customers are placed with.
- ``hcps``: customers (``CustomerChunk``, NPIs) and their attributes.
- ``engagement``: interactions.
- ``prescribing``: rx facts.
"""

from __future__ import annotations

from .engagement import (
    ASSET_CODES,
    CHANNELS,
    KINDS,
    TOPICS,
    TOUCHES_PER_CUSTOMER,
    generate_interactions,
)
from .hcos import ACCOUNT_TYPES, FORMULARY_STATUSES, AccountIndex, generate_accounts
from .hcps import ADOPTION_STAGES, CustomerChunk, generate_attributes, generate_customers, npis
from .places import PLACES, territories_frame
from .plan import (
    ACCOUNTS_PER_CUSTOMER,
    CHUNK_SIZE,
    HISTORY_DAYS,
    MAX_ACCOUNTS,
    MIN_ACCOUNTS,
    NURSE_PRACTITIONER,
    OTHER_CLINICIAN,
    PHARMACIST,
    PHYSICIAN,
    RX_MONTHS,
    SPECIALTIES,
    SPECIALTY_WEIGHTS,
    DemoPlan,
)
from .prescribing import PRODUCTS, generate_rx

__all__ = [
    "ACCOUNTS_PER_CUSTOMER",
    "ACCOUNT_TYPES",
    "ADOPTION_STAGES",
    "ASSET_CODES",
    "CHANNELS",
    "CHUNK_SIZE",
    "FORMULARY_STATUSES",
    "HISTORY_DAYS",
    "KINDS",
    "MAX_ACCOUNTS",
    "MIN_ACCOUNTS",
    "NURSE_PRACTITIONER",
    "OTHER_CLINICIAN",
    "PHARMACIST",
    "PHYSICIAN",
    "PLACES",
    "PRODUCTS",
    "RX_MONTHS",
    "SPECIALTIES",
    "SPECIALTY_WEIGHTS",
    "TOPICS",
    "TOUCHES_PER_CUSTOMER",
    "AccountIndex",
    "CustomerChunk",
    "DemoPlan",
    "generate_accounts",
    "generate_attributes",
    "generate_customers",
    "generate_interactions",
    "generate_rx",
    "npis",
    "territories_frame",
]
