"""Every invalid value of docs/imports.md gets its message, and an invalid file writes nothing."""

from __future__ import annotations

import io

import pytest

from audit.models import AuditEvent
from core.errors import ValidationFailed
from customers.models import Account, Customer, ImportRun, Interaction, RxFact
from customers.services import import_file
from tests.factories import AccountFactory, CustomerFactory, valid_npi

from .helpers import messages, run_import

pytestmark = pytest.mark.django_db

NPI = valid_npi(1)
CUSTOMER_HEADER = "npi,first_name,last_name,specialty"


def assert_refused(kind: str, lines: list[str], expected: str) -> None:
    counts = _counts()
    with pytest.raises(ValidationFailed) as exc_info:
        run_import(kind, *lines)
    assert any(m.startswith(expected) for m in messages(exc_info)), messages(exc_info)
    assert _counts() == counts, "an invalid file must write nothing"


def _counts() -> tuple[int, ...]:
    return (
        Account.objects.count(),
        Customer.objects.count(),
        Interaction.objects.count(),
        RxFact.objects.count(),
        ImportRun.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("123456789,Ada,Byron,cardiology", "row 1: npi: must be 10 digits"),
        ("12345678AB,Ada,Byron,cardiology", "row 1: npi: must be 10 digits"),
        ("1234567890,Ada,Byron,cardiology", "row 1: npi: invalid NPI check digit"),
        (f"{NPI},,Byron,cardiology", "row 1: first_name: is required"),
        (
            f"{NPI},{'A' * 101},Byron,cardiology",
            "row 1: first_name: must be at most 100 characters",
        ),
        (f"{NPI},Ada,,cardiology", "row 1: last_name: is required"),
        (f"{NPI},Ada,Byron,astrology", "row 1: specialty: 'astrology' is not one of: "),
    ],
)
def test_customer_required_values(cells, expected):
    counts = _counts()
    with pytest.raises(ValidationFailed) as exc_info:
        run_import("customers", CUSTOMER_HEADER, cells)
    assert any(m.startswith(expected) for m in messages(exc_info))
    assert _counts() == counts


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("credential", "PhD", "credential: 'PhD' is not one of: MD, DO, NP, PA, PharmD, RN, other"),
        ("role", "surgeon", "role: 'surgeon' is not one of: "),
        ("practice_setting", "garage", "practice_setting: 'garage' is not one of: "),
        ("state", "XX", "state: 'XX' is not a two-letter US state or territory code"),
        ("state", "Calif", "state: 'Calif' is not a two-letter US state or territory code"),
        ("zip", "1234", "zip: must be 5 digits"),
        ("zip", "12345-6789", "zip: must be 5 digits"),
        ("decile", "0", "decile: must be at least 1"),
        ("decile", "11", "decile: must be at most 10"),
        ("decile", "5.5", "decile: must be a whole number"),
        ("email_opt_out", "maybe", "email_opt_out: must be true or false"),
        ("account_id", "NOPE", "account_id: no account 'NOPE'"),
        ("territory", "T" * 65, "territory: must be at most 64 characters"),
    ],
)
def test_customer_optional_values(column, value, expected):
    counts = _counts()
    with pytest.raises(ValidationFailed) as exc_info:
        run_import(
            "customers", f"{CUSTOMER_HEADER},{column}", f"{NPI},Ada,Byron,cardiology,{value}"
        )
    assert any(m.startswith(f"row 1: {expected}") for m in messages(exc_info)), messages(exc_info)
    assert _counts() == counts


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("account_id,name,account_type", ",General,hospital", "row 1: account_id: is required"),
        (
            "account_id,name,account_type",
            f"{'A' * 65},General,hospital",
            "row 1: account_id: must be at most 64 characters",
        ),
        ("account_id,name,account_type", "H1,,hospital", "row 1: name: is required"),
        (
            "account_id,name,account_type",
            f"H1,{'N' * 201},hospital",
            "row 1: name: must be at most 200 characters",
        ),
        (
            "account_id,name,account_type",
            "H1,General,spa",
            "row 1: account_type: 'spa' is not one of: ",
        ),
        (
            "account_id,name,account_type,bed_count",
            "H1,General,hospital,-1",
            "row 1: bed_count: must be at least 0",
        ),
        (
            "account_id,name,account_type,bed_count",
            "H1,General,hospital,many",
            "row 1: bed_count: must be a whole number",
        ),
        (
            "account_id,name,account_type,formulary_status",
            "H1,General,hospital,great",
            "row 1: formulary_status: 'great' is not one of: ",
        ),
        (
            "account_id,name,account_type,parent_account_id",
            "H1,General,hospital,NOPE",
            "row 1: parent_account_id: no account 'NOPE' in the database or in this file",
        ),
    ],
)
def test_account_values(header, row, expected):
    counts = _counts()
    with pytest.raises(ValidationFailed) as exc_info:
        run_import("accounts", header, row)
    assert any(m.startswith(expected) for m in messages(exc_info)), messages(exc_info)
    assert _counts() == counts


def test_account_parent_cycle_is_refused():
    assert_refused(
        "accounts",
        ["account_id,name,account_type,parent_account_id", "A,A,clinic,B", "B,B,clinic,A"],
        "row 1: parent_account_id: makes the account hierarchy a cycle",
    )


def test_account_parent_cycle_through_the_database_is_refused():
    top = AccountFactory(account_id="TOP")
    AccountFactory(account_id="MID", parent=top)
    assert_refused(
        "accounts",
        ["account_id,name,account_type,parent_account_id", "TOP,Top,health_system,MID"],
        "row 1: parent_account_id: makes the account hierarchy a cycle",
    )


def test_account_may_not_be_its_own_parent():
    assert_refused(
        "accounts",
        ["account_id,name,account_type,parent_account_id", "A,A,clinic,A"],
        "row 1: parent_account_id: makes the account hierarchy a cycle",
    )


INTERACTION_HEADER = "npi,occurred_at,channel,kind,topic,asset,external_id"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "{npi},2026-01-15T10:00:00,email,opened,,,",
            "row 1: occurred_at: needs a time zone offset or Z (naive date-times are refused)",
        ),
        (
            "{npi},2026-01-15,email,opened,,,",
            "row 1: occurred_at: must be an ISO 8601 date-time with an offset or Z",
        ),
        (
            "{npi},yesterday,email,opened,,,",
            "row 1: occurred_at: must be an ISO 8601 date-time with an offset or Z",
        ),
        (
            "{npi},2026-13-15T10:00:00Z,email,opened,,,",
            "row 1: occurred_at: must be an ISO 8601 date-time with an offset or Z",
        ),
        ("{npi},2026-01-15T10:00:00Z,pigeon,opened,,,", "row 1: channel: 'pigeon' is not one of: "),
        ("{npi},2026-01-15T10:00:00Z,email,liked,,,", "row 1: kind: 'liked' is not one of: "),
        (
            "{npi},2026-01-15T10:00:00Z,email,opened,gossip,,",
            "row 1: topic: 'gossip' is not one of: ",
        ),
        (
            "{npi},2026-01-15T10:00:00Z,email,opened,,{long},",
            "row 1: asset: must be at most 64 characters",
        ),
        (
            "{other},2026-01-15T10:00:00Z,email,opened,,,",
            "row 1: npi: no customer with NPI {other}",
        ),
        (",2026-01-15T10:00:00Z,email,opened,,,", "row 1: npi: is required"),
    ],
)
def test_interaction_values(row, expected):
    customer = CustomerFactory()
    other = valid_npi(999)
    values = {"npi": customer.npi, "other": other, "long": "X" * 65}
    assert_refused(
        "interactions", [INTERACTION_HEADER, row.format(**values)], expected.format(**values)
    )


RX_HEADER = "npi,month,product,nrx,trx,new_patient_starts"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("{npi},2026-1,CARDIOZEN,1,2,0", "row 1: month: must be a month as YYYY-MM"),
        ("{npi},2026-13,CARDIOZEN,1,2,0", "row 1: month: must be a month as YYYY-MM"),
        ("{npi},2026-01-01,CARDIOZEN,1,2,0", "row 1: month: must be a month as YYYY-MM"),
        ("{npi},2026-01,,1,2,0", "row 1: product: is required"),
        ("{npi},2026-01,{long},1,2,0", "row 1: product: must be at most 64 characters"),
        ("{npi},2026-01,CARDIOZEN,-1,2,0", "row 1: nrx: must be at least 0"),
        ("{npi},2026-01,CARDIOZEN,1,two,0", "row 1: trx: must be a whole number"),
        ("{npi},2026-01,CARDIOZEN,1,2,", "row 1: new_patient_starts: is required"),
    ],
)
def test_rx_values(row, expected):
    customer = CustomerFactory()
    values = {"npi": customer.npi, "long": "P" * 65}
    assert_refused("rx", [RX_HEADER, row.format(**values)], expected)


def test_unknown_column_is_a_header_error():
    assert_refused(
        "customers",
        [f"{CUSTOMER_HEADER},favourite_colour", f"{NPI},Ada,Byron,cardiology,blue"],
        "header: unknown column 'favourite_colour'",
    )


def test_missing_required_column_is_a_header_error():
    assert_refused(
        "customers",
        ["npi,first_name,last_name", f"{NPI},Ada,Byron"],
        "header: missing required column 'specialty'",
    )


def test_duplicate_column_is_a_header_error():
    assert_refused(
        "customers",
        [f"{CUSTOMER_HEADER},NPI", f"{NPI},Ada,Byron,cardiology,{NPI}"],
        "header: duplicate column 'npi'",
    )


def test_duplicate_natural_key_in_one_file_is_refused_on_the_later_row():
    assert_refused(
        "customers",
        [CUSTOMER_HEADER, f"{NPI},Ada,Byron,cardiology", f"{NPI},Ada,King,oncology"],
        "row 2: npi: duplicates row 1 (same natural key)",
    )


def test_duplicate_external_id_in_one_file_is_refused():
    customer = CustomerFactory()
    assert_refused(
        "interactions",
        [
            INTERACTION_HEADER,
            f"{customer.npi},2026-01-15T10:00:00Z,email,opened,,,E1",
            f"{customer.npi},2026-01-16T10:00:00Z,email,clicked,,,E1",
        ],
        "row 2: external_id: duplicates row 1 (same natural key)",
    )


def test_one_bad_row_among_good_ones_writes_nothing():
    assert_refused(
        "customers",
        [
            CUSTOMER_HEADER,
            f"{valid_npi(1)},Ada,Byron,cardiology",
            f"{valid_npi(2)},Ada,Byron,alchemy",
        ],
        "row 2: specialty: 'alchemy' is not one of: cardiology, oncology, hematology, "
        "endocrinology, neurology, rheumatology, nephrology, pulmonology, gastroenterology, "
        "dermatology, psychiatry, infectious_disease, internal_medicine, family_medicine, "
        "pediatrics, obstetrics_gynecology, pharmacy, nurse_practitioner, other",
    )


def test_errors_list_every_invalid_row_in_row_order():
    with pytest.raises(ValidationFailed) as exc_info:
        run_import(
            "customers",
            CUSTOMER_HEADER,
            f"{valid_npi(1)},Ada,Byron,cardiology",
            f"{valid_npi(2)},,Byron,cardiology",
            "1234567890,Ada,Byron,alchemy",
        )
    assert [m.split(":")[0] + ":" + m.split(":")[1] for m in messages(exc_info)] == [
        "row 2: first_name",
        "row 3: npi",
        "row 3: specialty",
    ]


def test_at_most_1000_errors_are_reported():
    rows = [f"{i:010d},Ada,Byron,cardiology" for i in range(1, 1206)]
    with pytest.raises(ValidationFailed) as exc_info:
        run_import("customers", CUSTOMER_HEADER, *rows)
    assert len(exc_info.value.errors) == 1000
    assert str(exc_info.value.errors[0]).startswith("row 1: npi: ")


def test_attribute_column_is_refused_outside_customers():
    assert_refused(
        "accounts",
        ["account_id,name,account_type,attr.size", "H1,General,hospital,big"],
        "header: column 'attr.size': custom attributes (attr.*) are imported with customers only",
    )


def test_unknown_kind_is_refused():
    with pytest.raises(ValidationFailed) as exc_info:
        run_import("prescribers", CUSTOMER_HEADER)
    assert messages(exc_info) == [
        "kind: 'prescribers' is not one of: accounts, customers, interactions, rx, "
        "nppes, taxonomy, partd, alignment, assets, coverage, referrals"
    ]


def test_empty_file_is_refused():
    with pytest.raises(ValidationFailed) as exc_info:
        import io

        from customers.services import import_file

        import_file(kind="customers", file=io.BytesIO(b""), file_name="c.csv")
    assert messages(exc_info) == ["header: the file is empty (no header row)"]


def test_non_utf8_file_is_refused():
    data = f"{CUSTOMER_HEADER}\n{NPI},Zo\xeb,Byron,cardiology\n".encode("latin-1")
    with pytest.raises(ValidationFailed) as exc_info:
        import_file(kind="customers", file=io.BytesIO(data), file_name="c.csv")
    assert messages(exc_info) == ["file: the file is not UTF-8 text (save the CSV as UTF-8)"]
    assert Customer.objects.count() == 0
