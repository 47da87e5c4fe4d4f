"""The field catalog of the rule language: every path a field condition may name.

The catalog is data, not behaviour: validation reads it to check paths, types
and vocabularies, compilation reads it to find the column behind a path, and
the API and rule builder serve it as ``GET /api/v1/fields/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connections, router

from customers.models import RX_METRICS as RX_METRICS  # the rule language's metrics
from customers.models import CustomerAttribute
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

STRING = "string"
INTEGER = "integer"
DECIMAL = "decimal"
BOOLEAN = "boolean"
DATE = "date"
FIELD_TYPES = (STRING, INTEGER, DECIMAL, BOOLEAN, DATE)

ATTR_PREFIX = "attr."
ACCOUNT_PREFIX = "account."
INFLUENCE_PREFIX = "influence."
PARENT_PREFIX = "parent."
ATTR_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class FieldSpec:
    """One rule field.

    ``column`` is the model field behind the path (on Customer, or on Account
    for ``scope == "account"``; the attribute key for ``scope == "attr"``). It
    is internal and not part of :meth:`as_dict`.
    """

    path: str
    type: str
    allowed_values: tuple[str, ...] | None = None
    label: str = ""
    # "customer" | "account" | "attr" | "influence" in customer rules;
    # "own" | "parent" in account rules (docs/rules.md, "Account segments").
    scope: str = "customer"
    column: str = ""
    nullable: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The catalog entry as the API serves it."""
        return {
            "path": self.path,
            "type": self.type,
            "allowed_values": list(self.allowed_values) if self.allowed_values else None,
            "label": self.label,
        }

    @property
    def is_attr(self) -> bool:
        return self.scope == "attr"


def _customer(path: str, type_: str, label: str, column: str = "", **kw: Any) -> FieldSpec:
    return FieldSpec(path=path, type=type_, label=label, column=column or path, **kw)


def _account(name: str, type_: str, label: str, column: str = "", **kw: Any) -> FieldSpec:
    return FieldSpec(
        path=ACCOUNT_PREFIX + name,
        type=type_,
        label=label,
        scope="account",
        column=column or name,
        **kw,
    )


# Static fields, in the order the rule builder lists them.
CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    _customer("npi", STRING, "NPI"),
    _customer("first_name", STRING, "First name"),
    _customer("last_name", STRING, "Last name"),
    _customer("credential", STRING, "Credential", allowed_values=tuple(Credential.values)),
    _customer("specialty", STRING, "Specialty", allowed_values=tuple(Specialty.values)),
    _customer("role", STRING, "Role", allowed_values=tuple(CustomerRole.values)),
    _customer(
        "practice_setting",
        STRING,
        "Practice setting",
        allowed_values=tuple(PracticeSetting.values),
    ),
    _customer("account_id", STRING, "Affiliated account id", nullable=True),
    _customer("state", STRING, "State"),
    _customer("zip", STRING, "ZIP code"),
    _customer("territory", STRING, "Territory", column="territory_id", nullable=True),
    _customer("decile", INTEGER, "Decile (1-10)", nullable=True),
    _customer("email_opt_out", BOOLEAN, "Email opt-out"),
)

ACCOUNT_FIELDS: tuple[FieldSpec, ...] = (
    _account("account_id", STRING, "Account id"),
    _account("name", STRING, "Account name"),
    _account("account_type", STRING, "Account type", allowed_values=tuple(AccountType.values)),
    _account("parent_account_id", STRING, "Parent account id", column="parent_id", nullable=True),
    _account("state", STRING, "Account state"),
    _account("zip", STRING, "Account ZIP code"),
    _account("territory", STRING, "Account territory", column="territory_id", nullable=True),
    _account("bed_count", INTEGER, "Bed count", nullable=True),
    _account(
        "formulary_status",
        STRING,
        "Formulary status",
        allowed_values=tuple(FormularyStatus.values),
    ),
)

# A customer's influence in the latest referral period at or before as_of
# (docs/rules.md, "Influence"); missing for a customer in no pair of it.
INFLUENCE_FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(
        path=INFLUENCE_PREFIX + name,
        type=DECIMAL,
        label=label,
        scope="influence",
        column=name,
        nullable=True,
    )
    for name, label in (
        ("referrals_in", "Referring customers (distinct)"),
        ("referrals_out", "Customers referred to (distinct)"),
        ("pagerank_pct", "PageRank percentile"),
        ("pagerank_pct_in_specialty", "PageRank percentile in specialty"),
    )
)

STATIC_FIELDS: dict[str, FieldSpec] = {
    f.path: f for f in CUSTOMER_FIELDS + ACCOUNT_FIELDS + INFLUENCE_FIELDS
}

# The fields of an account segment's rules: the account's own (no prefix) and
# its parent's (``parent.``), over Account's columns.
ACCOUNT_OWN_FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(
        path=spec.path[len(ACCOUNT_PREFIX) :],
        type=spec.type,
        allowed_values=spec.allowed_values,
        label=spec.label,
        scope="own",
        column=spec.column,
        nullable=spec.nullable,
    )
    for spec in ACCOUNT_FIELDS
)
ACCOUNT_PARENT_FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(
        path=PARENT_PREFIX + spec.path,
        type=spec.type,
        allowed_values=spec.allowed_values,
        label=f"Parent: {spec.label[0].lower()}{spec.label[1:]}",
        scope="parent",
        column=spec.column,
        nullable=spec.nullable,
    )
    for spec in ACCOUNT_OWN_FIELDS
)
ACCOUNT_RULE_FIELDS: dict[str, FieldSpec] = {
    f.path: f for f in ACCOUNT_OWN_FIELDS + ACCOUNT_PARENT_FIELDS
}

# Event condition keys and their vocabularies (None: any non-empty string).
EVENT_KEYS: dict[str, tuple[str, ...] | None] = {
    "channel": tuple(Channel.values),
    "kind": tuple(InteractionKind.values),
    "topic": tuple(Topic.values),
    "asset": None,
}

CMP_OPS: tuple[str, ...] = ("eq", "ne", "gt", "gte", "lt", "lte")

FIELD_OPS: tuple[str, ...] = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "is_set",
    "is_not_set",
)

# Which operators each field type accepts (attr. paths: string ops plus ordering).
ORDER_OPS = ("gt", "gte", "lt", "lte", "between")
OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    STRING: ("eq", "ne", "in", "not_in", "contains", "is_set", "is_not_set"),
    INTEGER: ("eq", "ne", "in", "not_in", *ORDER_OPS, "is_set", "is_not_set"),
    DECIMAL: ("eq", "ne", "in", "not_in", *ORDER_OPS, "is_set", "is_not_set"),
    DATE: ("eq", "ne", "in", "not_in", *ORDER_OPS, "is_set", "is_not_set"),
    BOOLEAN: ("eq", "ne", "in", "not_in", "is_set", "is_not_set"),
    "attr": FIELD_OPS,
}


def ops_for(spec: FieldSpec) -> tuple[str, ...]:
    """The operators a field condition on ``spec`` may use."""
    return OPS_BY_TYPE["attr"] if spec.is_attr else OPS_BY_TYPE[spec.type]


def attr_spec(key: str) -> FieldSpec:
    """The catalog entry of custom attribute ``key`` (valid whether or not anyone has it)."""
    return FieldSpec(
        path=ATTR_PREFIX + key,
        type=STRING,
        label=f"Attribute {key}",
        scope="attr",
        column=key,
        nullable=True,
    )


def get_account_field(path: str) -> FieldSpec | None:
    """The FieldSpec of an account segment's rule path (own or ``parent.``), or None."""
    return ACCOUNT_RULE_FIELDS.get(path) if isinstance(path, str) else None


def get_field(path: str) -> FieldSpec | None:
    """The FieldSpec for a rule path, or None when the path names no field.

    Any ``attr.<key>`` whose key matches ``ATTR_KEY_RE`` is a field, even if no
    customer has that attribute yet (then every customer is missing it).
    """
    if not isinstance(path, str):
        return None
    spec = STATIC_FIELDS.get(path)
    if spec is not None:
        return spec
    if path.startswith(ATTR_PREFIX):
        key = path[len(ATTR_PREFIX) :]
        if ATTR_KEY_RE.match(key):
            return attr_spec(key)
    return None


def field_catalog(unit: str = "customer") -> list[FieldSpec]:
    """Every rule field: customer fields, ``account.`` fields, ``influence.`` fields,
    then one ``attr.`` per stored key. For ``unit="account"``: the account's own
    fields and its parent's.

    Attribute keys are read from the database, sorted (``attribute_keys``).
    """
    if unit == "account":
        return [*ACCOUNT_OWN_FIELDS, *ACCOUNT_PARENT_FIELDS]

    attrs = [attr_spec(k) for k in attribute_keys() if ATTR_KEY_RE.match(k)]
    return [*CUSTOMER_FIELDS, *ACCOUNT_FIELDS, *INFLUENCE_FIELDS, *attrs]


def attribute_keys() -> list[str]:
    """The distinct attribute keys customers have, sorted.

    Every page with a rule builder asks. On PostgreSQL the keys are read by
    skipping through the (key, value) index, one probe per key, instead of a
    ``SELECT DISTINCT`` over every attribute row (500,000 rows at 1M customers:
    65 ms a page, bench/README.md "Pages, one person at a time").
    """
    database = connections[router.db_for_read(CustomerAttribute)]  # the replica when allowed
    if database.vendor != "postgresql":
        return list(
            CustomerAttribute.objects.order_by("key").values_list("key", flat=True).distinct()
        )
    table = database.ops.quote_name(CustomerAttribute._meta.db_table)
    with database.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE k(key) AS (SELECT min(key) FROM {table} UNION ALL "
            f"SELECT (SELECT min(a.key) FROM {table} a WHERE a.key > k.key) "
            f"FROM k WHERE k.key IS NOT NULL) SELECT key FROM k WHERE key IS NOT NULL"
        )
        return [row[0] for row in cursor.fetchall()]
