"""Which columns each kind of file has (docs/imports.md), and how each cell is parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from customers.vocabularies import (
    AccountType,
    Channel,
    Credential,
    CustomerRole,
    FormularyStatus,
    InteractionKind,
    PracticeSetting,
    Specialty,
    Topic,
)

from . import fields as f

# Storage types of staged values; the engine maps them to SQL types per backend.
TEXT, INT, BOOL, DATETIME, DATE = "text", "int", "bool", "datetime", "date"


@dataclass(frozen=True)
class Column:
    """One column of an import file.

    ``db`` is the column of the target table it writes (or the staging column
    for references resolved in SQL); ``blank`` is what an empty optional cell
    stores: "" for text (Django's convention), None for numbers and references.
    """

    name: str
    parse: f.Parser
    required: bool = False
    db: str = ""
    type: str = TEXT
    blank: Any = ""

    @property
    def target(self) -> str:
        return self.db or self.name


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    allows_attributes: bool = False
    by_name: dict[str, Column] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})


_territory = Column("territory", f.code(64), db="territory_id", blank=None)
_state = Column("state", f.parse_state)
_zip = Column("zip", f.parse_zip)

ACCOUNTS = Kind(
    "accounts",
    (
        Column("account_id", f.code(64), required=True),
        Column("name", f.text(1, 200), required=True),
        Column("account_type", f.vocabulary(AccountType.values), required=True),
        Column("parent_account_id", f.code(64), db="parent_id", blank=None),
        _state,
        _zip,
        _territory,
        Column("bed_count", f.integer(0), type=INT, blank=None),
        Column("formulary_status", f.vocabulary(FormularyStatus.values)),
    ),
    key=("account_id",),
)

CUSTOMERS = Kind(
    "customers",
    (
        Column("npi", f.parse_npi, required=True),
        Column("first_name", f.text(1, 100), required=True),
        Column("last_name", f.text(1, 100), required=True),
        Column("credential", f.vocabulary(Credential.values, case_only=True)),
        Column("specialty", f.vocabulary(Specialty.values), required=True),
        Column("role", f.vocabulary(CustomerRole.values)),
        Column("practice_setting", f.vocabulary(PracticeSetting.values)),
        Column("account_id", f.code(64), blank=None),
        _state,
        _zip,
        _territory,
        Column("decile", f.integer(1, 10), type=INT, blank=None),
        Column("email_opt_out", f.parse_bool, type=BOOL, blank=False),
    ),
    key=("npi",),
    allows_attributes=True,
)

INTERACTIONS = Kind(
    "interactions",
    (
        Column("npi", f.parse_npi, required=True),
        Column("occurred_at", f.parse_datetime, required=True, type=DATETIME),
        Column("channel", f.vocabulary(Channel.values), required=True),
        Column("kind", f.vocabulary(InteractionKind.values), required=True),
        Column("topic", f.vocabulary(Topic.values)),
        Column("asset", f.code(64)),
        Column("external_id", f.code(128), blank=None),
    ),
    key=("npi", "occurred_at", "channel", "kind", "topic", "asset"),
)

RX = Kind(
    "rx",
    (
        Column("npi", f.parse_npi, required=True),
        Column("month", f.parse_month, required=True, type=DATE),
        Column("product", f.text(1, 64), required=True),
        Column("nrx", f.integer(0), required=True, type=INT),
        Column("trx", f.integer(0), required=True, type=INT),
        Column("new_patient_starts", f.integer(0), required=True, type=INT),
    ),
    key=("npi", "month", "product"),
)

KINDS: dict[str, Kind] = {k.name: k for k in (ACCOUNTS, CUSTOMERS, INTERACTIONS, RX)}
ATTR_PREFIX = "attr."
ATTR_KEY_MAX = 100
ATTR_VALUE_MAX = 1000
