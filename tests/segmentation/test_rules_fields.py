"""Field conditions: every operator on present and missing values, and their ``not``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Territory
from tests.factories import AccountFactory, CustomerAttributeFactory, CustomerFactory

ALL_OPS_ON_STATE = [
    # (op, value, matches a customer with state "CA"?, matches one with state missing?)
    ("eq", "CA", True, False),
    ("ne", "CA", False, True),
    ("in", ["CA", "NY"], True, False),
    ("not_in", ["CA", "NY"], False, True),
    ("contains", "c", True, False),
    ("is_set", None, True, False),
    ("is_not_set", None, False, True),
]


@pytest.fixture
def state_people(db):
    CustomerFactory(npi="1000000001", state="CA")
    CustomerFactory(npi="1000000002", state="")


@pytest.mark.parametrize(("op", "value", "on_present", "on_missing"), ALL_OPS_ON_STATE)
def test_string_operator_matrix(state_people, partition, op, value, on_present, on_missing):
    rule = {"field": "state", "op": op, "value": value}
    got = partition(rule)
    assert ("1000000001" in got) is on_present
    assert ("1000000002" in got) is on_missing


DECILE_MATRIX = [
    # (op, value, decile 7?, decile 8?, decile missing?)
    ("eq", 7, True, False, False),
    ("ne", 7, False, True, True),
    ("in", [7, 9], True, False, False),
    ("not_in", [7, 9], False, True, True),
    ("gt", 7, False, True, False),
    ("gte", 7, True, True, False),
    ("lt", 8, True, False, False),
    ("lte", 7, True, False, False),
    ("between", [7, 7], True, False, False),
    ("is_set", None, True, True, False),
    ("is_not_set", None, False, False, True),
]


@pytest.fixture
def decile_people(db):
    CustomerFactory(npi="1000000007", decile=7)
    CustomerFactory(npi="1000000008", decile=8)
    CustomerFactory(npi="1000000000", decile=None)


@pytest.mark.parametrize(("op", "value", "d7", "d8", "missing"), DECILE_MATRIX)
def test_integer_operator_matrix(decile_people, partition, op, value, d7, d8, missing):
    got = partition({"field": "decile", "op": op, "value": value})
    assert ("1000000007" in got, "1000000008" in got, "1000000000" in got) == (d7, d8, missing)


def test_gt_and_lte_are_both_false_on_a_missing_value(decile_people, matching):
    gt = matching({"field": "decile", "op": "gt", "value": 5})
    lte = matching({"field": "decile", "op": "lte", "value": 5})
    assert "1000000000" not in gt | lte


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gte", 7.5, {"1000000008"}),
        ("gt", 7.5, {"1000000008"}),
        ("lt", 7.5, {"1000000007"}),
        ("lte", 7.5, {"1000000007"}),
        ("eq", 7.5, set()),
        ("ne", 7.5, {"1000000007", "1000000008", "1000000000"}),
        ("eq", 7.0, {"1000000007"}),
        ("between", [6.5, 7.5], {"1000000007"}),
        ("in", [7.5, 8], {"1000000008"}),
    ],
)
def test_integer_fields_compare_fractional_values_numerically(
    decile_people, matching, op, value, expected
):
    assert matching({"field": "decile", "op": op, "value": value}) == expected


def test_between_with_lo_above_hi_matches_nobody(decile_people, matching):
    assert matching({"field": "decile", "op": "between", "value": [8, 7]}) == set()


def test_huge_bounds_do_not_break_the_query(decile_people, matching):
    assert matching({"field": "decile", "op": "lt", "value": 10**30}) == {
        "1000000007",
        "1000000008",
    }
    assert matching({"field": "decile", "op": "gt", "value": -1e300}) == {
        "1000000007",
        "1000000008",
    }


def test_string_equality_is_case_sensitive(db, matching):
    CustomerFactory(npi="1000000001", state="CA")
    CustomerFactory(npi="1000000002", state="ca")
    assert matching({"field": "state", "op": "eq", "value": "CA"}) == {"1000000001"}
    assert matching({"field": "state", "op": "in", "value": ["ca"]}) == {"1000000002"}


def test_contains_is_case_insensitive_including_non_ascii(db, matching):
    CustomerFactory(npi="1000000001", last_name="ÉLODIE")
    CustomerFactory(npi="1000000002", last_name="élodie")
    CustomerFactory(npi="1000000003", last_name="Elodie")
    assert matching({"field": "last_name", "op": "contains", "value": "éLo"}) == {
        "1000000001",
        "1000000002",
    }


@pytest.mark.parametrize(("needle", "expected"), [("%", {"2"}), ("_", {"3"}), ("a%b", set())])
def test_contains_treats_like_wildcards_literally(db, matching, needle, expected):
    CustomerFactory(npi="1000000001", last_name="plain")
    CustomerFactory(npi="1000000002", last_name="100%")
    CustomerFactory(npi="1000000003", last_name="snake_case")
    got = matching({"field": "last_name", "op": "contains", "value": needle})
    assert got == {f"100000000{n}" for n in expected}


def test_contains_empty_string_matches_every_present_value(db, partition):
    CustomerFactory(npi="1000000001", zip="12345")
    CustomerFactory(npi="1000000002", zip="")
    assert partition({"field": "zip", "op": "contains", "value": ""}) == {"1000000001"}


def test_contains_on_a_vocabulary_field_is_a_substring_search(db, matching):
    CustomerFactory(npi="1000000001", specialty="cardiology")
    CustomerFactory(npi="1000000002", specialty="oncology")
    assert matching({"field": "specialty", "op": "contains", "value": "CARDIO"}) == {"1000000001"}


def test_eq_empty_string_matches_nobody_and_ne_everybody(db, partition):
    CustomerFactory(npi="1000000001", zip="12345")
    CustomerFactory(npi="1000000002", zip="")
    assert partition({"field": "zip", "op": "eq", "value": ""}) == set()
    assert partition({"field": "zip", "op": "ne", "value": ""}) == {"1000000001", "1000000002"}


def test_boolean_field_is_never_missing(db, partition):
    CustomerFactory(npi="1000000001", email_opt_out=True)
    CustomerFactory(npi="1000000002", email_opt_out=False)
    assert partition({"field": "email_opt_out", "op": "eq", "value": True}) == {"1000000001"}
    assert partition({"field": "email_opt_out", "op": "ne", "value": True}) == {"1000000002"}
    assert partition({"field": "email_opt_out", "op": "is_set"}) == {"1000000001", "1000000002"}
    assert partition({"field": "email_opt_out", "op": "is_not_set"}) == set()


def test_territory_and_account_id_are_missing_when_null(db, partition):
    Territory.objects.create(code="T1", name="T1")
    account = AccountFactory(account_id="ACC1")
    CustomerFactory(npi="1000000001", territory_id="T1", account=account)
    CustomerFactory(npi="1000000002")
    assert partition({"field": "territory", "op": "eq", "value": "T1"}) == {"1000000001"}
    assert partition({"field": "territory", "op": "ne", "value": "T1"}) == {"1000000002"}
    assert partition({"field": "account_id", "op": "is_not_set"}) == {"1000000002"}
    assert partition({"field": "account_id", "op": "not_in", "value": ["ACC1"]}) == {"1000000002"}


# -- account. paths -------------------------------------------------------------------


@pytest.fixture
def affiliations(db):
    big = AccountFactory(
        account_id="BIG", account_type="hospital", bed_count=500, state="CA",
        formulary_status="preferred",
    )  # fmt: skip
    small = AccountFactory(account_id="SMALL", account_type="clinic", bed_count=None, state="")
    AccountFactory(account_id="CHILD", account_type="clinic", parent=big)
    CustomerFactory(npi="1000000001", account=big)
    CustomerFactory(npi="1000000002", account=small)
    CustomerFactory(npi="1000000003", account=None)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"field": "account.bed_count", "op": "gte", "value": 100}, {"1"}),
        ({"field": "account.bed_count", "op": "lt", "value": 100}, set()),
        ({"field": "account.bed_count", "op": "ne", "value": 500}, {"2", "3"}),
        ({"field": "account.bed_count", "op": "is_not_set"}, {"2", "3"}),
        ({"field": "account.account_type", "op": "eq", "value": "clinic"}, {"2"}),
        ({"field": "account.account_type", "op": "ne", "value": "clinic"}, {"1", "3"}),
        ({"field": "account.account_type", "op": "not_in", "value": ["clinic"]}, {"1", "3"}),
        ({"field": "account.state", "op": "is_set"}, {"1"}),
        ({"field": "account.state", "op": "contains", "value": "c"}, {"1"}),
        ({"field": "account.formulary_status", "op": "is_not_set"}, {"2", "3"}),
        ({"field": "account.account_id", "op": "eq", "value": "SMALL"}, {"2"}),
        ({"field": "account.account_id", "op": "is_not_set"}, {"3"}),
        ({"field": "account.parent_account_id", "op": "is_set"}, set()),
        ({"field": "account.name", "op": "contains", "value": "HOSPITAL"}, {"1", "2"}),
    ],
)
def test_account_paths(affiliations, partition, rule, expected):
    assert partition(rule) == {f"100000000{n}" for n in expected}


def test_account_parent_path(db, partition):
    parent = AccountFactory(account_id="SYS")
    CustomerFactory(npi="1000000001", account=AccountFactory(account_id="H1", parent=parent))
    CustomerFactory(npi="1000000002", account=AccountFactory(account_id="H2"))
    rule = {"field": "account.parent_account_id", "op": "eq", "value": "SYS"}
    assert partition(rule) == {"1000000001"}


# -- attr. paths ----------------------------------------------------------------------


def _attr(npi: str, value: str | None, key: str = "score"):
    customer = CustomerFactory(npi=npi)
    if value is not None:
        try:
            number = Decimal(value.strip())
        except ArithmeticError:
            number = None
        CustomerAttributeFactory(customer=customer, key=key, value=value, number=number)
    return customer


@pytest.fixture
def scores(db):
    _attr("1000000001", "5")
    _attr("1000000002", "5.0")
    _attr("1000000003", "12")
    _attr("1000000004", "abc")
    _attr("1000000005", "")
    _attr("1000000006", None)  # no attribute at all


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        # numbers: compared as decimals; "abc", "" and absent are missing
        ("eq", 5, {"1", "2"}),
        ("ne", 5, {"3", "4", "5", "6"}),
        ("in", [5, 12], {"1", "2", "3"}),
        ("not_in", [5, 12], {"4", "5", "6"}),
        ("gt", 5, {"3"}),
        ("gte", 5, {"1", "2", "3"}),
        ("lt", 5.5, {"1", "2"}),
        ("lte", 4, set()),
        ("between", [4.5, 12], {"1", "2", "3"}),
        # strings: compared as strings ("5.0" is not "5"; "12" < "5")
        ("eq", "5", {"1"}),
        ("ne", "5", {"2", "3", "4", "5", "6"}),
        ("in", ["5.0", "abc"], {"2", "4"}),
        ("lt", "5", {"3"}),
        ("gt", "5", {"2", "4"}),
        ("between", ["12", "5"], {"1", "3"}),
        ("contains", "B", {"4"}),
        ("is_set", None, {"1", "2", "3", "4"}),
        ("is_not_set", None, {"5", "6"}),
    ],
)
def test_attr_numeric_and_string_comparison(scores, partition, op, value, expected):
    got = partition({"field": "attr.score", "op": op, "value": value})
    assert got == {f"100000000{n}" for n in expected}


def test_attr_key_nobody_has_is_missing_for_everyone(scores, partition):
    everyone = {f"100000000{n}" for n in range(1, 7)}
    assert partition({"field": "attr.never_imported", "op": "is_set"}) == set()
    assert partition({"field": "attr.never_imported", "op": "ne", "value": 1}) == everyone


def test_attr_keys_are_independent(db, matching):
    _attr("1000000001", "early", key="stage")
    _attr("1000000002", "early", key="other")
    assert matching({"field": "attr.stage", "op": "eq", "value": "early"}) == {"1000000001"}


def test_attr_string_ordering_is_by_code_point(db, matching):
    _attr("1000000001", "Zebra")
    _attr("1000000002", "apple")
    _attr("1000000003", "Éclair")
    # code points: "Z" (90) < "a" (97) < "É" (201)
    assert matching({"field": "attr.score", "op": "gt", "value": "a"}) == {
        "1000000002",
        "1000000003",
    }
    assert matching({"field": "attr.score", "op": "lt", "value": "a"}) == {"1000000001"}
