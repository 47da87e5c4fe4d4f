"""The field catalog: customer, account. and attr. fields with types and vocabularies."""

from __future__ import annotations

import pytest

from segmentation.rules import EVENT_KEYS, RX_METRICS, field_catalog, get_field
from tests.factories import CustomerAttributeFactory

CUSTOMER_PATHS = [
    "npi", "first_name", "last_name", "credential", "specialty", "role", "practice_setting",
    "account_id", "state", "zip", "territory", "decile", "email_opt_out",
]  # fmt: skip
ACCOUNT_PATHS = [
    "account.account_id", "account.name", "account.account_type", "account.parent_account_id",
    "account.state", "account.zip", "account.territory", "account.bed_count",
    "account.formulary_status",
]  # fmt: skip


def test_catalog_lists_every_customer_and_account_field(db):
    paths = [f.path for f in field_catalog()]
    assert paths[: len(CUSTOMER_PATHS) + len(ACCOUNT_PATHS)] == CUSTOMER_PATHS + ACCOUNT_PATHS


def test_catalog_adds_one_string_field_per_stored_attribute_key(db):
    # Inserted out of order and repeated: read back once each, sorted (on PostgreSQL
    # by skipping through the key index).
    for key in ("kol.tier", "adoption_stage", "adoption_stage", "zone", "kol.tier"):
        CustomerAttributeFactory(key=key)
    attrs = [f.as_dict() for f in field_catalog() if f.path.startswith("attr.")]
    assert [a["path"] for a in attrs] == ["attr.adoption_stage", "attr.kol.tier", "attr.zone"]
    assert {a["type"] for a in attrs} == {"string"}


@pytest.mark.parametrize(
    ("path", "type_"),
    [
        ("decile", "integer"),
        ("email_opt_out", "boolean"),
        ("state", "string"),
        ("account.bed_count", "integer"),
        ("territory", "string"),
    ],
)
def test_field_types(path, type_):
    assert get_field(path).type == type_


@pytest.mark.parametrize(
    ("path", "some_values"),
    [
        ("credential", ["MD", "DO", "NP", "PA", "PharmD", "RN", "other"]),
        ("specialty", ["cardiology", "infectious_disease", "other"]),
        ("role", ["prescriber", "formulary_decision_maker"]),
        ("practice_setting", ["outpatient_clinic", "pharmacy"]),
        ("account.account_type", ["health_system", "gpo"]),
        ("account.formulary_status", ["prior_auth", "not_covered"]),
    ],
)
def test_vocabulary_fields_carry_their_allowed_values(path, some_values):
    allowed = get_field(path).as_dict()["allowed_values"]
    assert set(some_values) <= set(allowed)


@pytest.mark.parametrize("path", ["state", "zip", "territory", "account.state", "decile"])
def test_plain_fields_have_no_vocabulary(path):
    assert get_field(path).as_dict()["allowed_values"] is None


def test_as_dict_has_the_api_keys():
    assert set(get_field("decile").as_dict()) == {"path", "type", "allowed_values", "label"}


def test_any_well_formed_attr_key_is_a_field():
    spec = get_field("attr.not_seen_yet")
    assert spec is not None and spec.type == "string"
    assert get_field("attr.has space") is None
    assert get_field("nope") is None


def test_event_keys_and_rx_metrics_for_the_builder():
    assert set(EVENT_KEYS) == {"channel", "kind", "topic", "asset"}
    assert "webinar" in EVENT_KEYS["channel"] and EVENT_KEYS["asset"] is None
    assert RX_METRICS == ("nrx", "trx", "new_patient_starts")
