"""Upsert semantics of docs/imports.md: natural keys, blank clears, absent columns kept, no-ops."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from accounts.models import Territory
from audit.models import AuditEvent
from customers.models import Account, Customer, CustomerAttribute, ImportRun, Interaction, RxFact
from customers.services import import_file
from tests.factories import (
    AccountFactory,
    CustomerAttributeFactory,
    CustomerFactory,
    InteractionFactory,
    valid_npi,
)

from .helpers import announcements, csv_file, run_import

pytestmark = pytest.mark.django_db

NPI = valid_npi(1)
FULL_HEADER = (
    "npi,first_name,last_name,credential,specialty,role,practice_setting,account_id,"
    "state,zip,territory,decile,email_opt_out"
)


def test_new_customers_are_created_with_normalised_values():
    AccountFactory(account_id="H1")
    result = run_import(
        "customers",
        FULL_HEADER,
        f"{NPI},Ada,Byron,pharmd,Family Medicine,Care-Coordinator,outpatient clinic,H1,ny,"
        "10001,NE-1,7,TRUE",
    )
    assert (result.rows, result.created, result.updated, result.unchanged) == (1, 1, 0, 0)
    customer = Customer.objects.get(npi=NPI)
    assert customer.credential == "PharmD"
    assert customer.specialty == "family_medicine"
    assert customer.role == "care_coordinator"
    assert customer.practice_setting == "outpatient_clinic"
    assert customer.state == "NY"
    assert customer.account_id == "H1"
    assert customer.territory_id == "NE-1"
    assert customer.decile == 7
    assert customer.email_opt_out is True


def test_reimporting_the_same_file_changes_nothing():
    lines = [
        FULL_HEADER + ",attr.stage",
        f"{NPI},Ada,Byron,MD,cardiology,,,,NY,10001,NE-1,7,false,early",
    ]
    run_import("customers", *lines)
    before = Customer.objects.values().get()
    result = run_import("customers", *lines)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert Customer.objects.values().get() == before  # updated_at untouched too


def test_existing_customer_is_updated_by_npi():
    CustomerFactory(npi=NPI, first_name="Ada", last_name="Byron", specialty="cardiology")
    result = run_import(
        "customers", "npi,first_name,last_name,specialty", f"{NPI},Ada,King,oncology"
    )
    assert (result.created, result.updated) == (0, 1)
    customer = Customer.objects.get(npi=NPI)
    assert (customer.last_name, customer.specialty) == ("King", "oncology")
    assert Customer.objects.count() == 1


def test_blank_cell_clears_an_optional_field():
    CustomerFactory(npi=NPI, state="NY", decile=5, credential="MD", email_opt_out=True)
    run_import(
        "customers",
        "npi,first_name,last_name,specialty,state,decile,credential,email_opt_out",
        f"{NPI},Ada,Byron,cardiology,,,,",
    )
    customer = Customer.objects.get(npi=NPI)
    assert (customer.state, customer.decile, customer.credential) == ("", None, "")
    assert customer.email_opt_out is False  # a blank boolean imports as false


def test_absent_column_is_left_as_it_was():
    CustomerFactory(npi=NPI, state="NY", decile=5)
    run_import("customers", "npi,first_name,last_name,specialty", f"{NPI},Ada,King,cardiology")
    customer = Customer.objects.get(npi=NPI)
    assert (customer.state, customer.decile) == ("NY", 5)


def test_new_territory_code_creates_the_territory():
    run_import(
        "customers", "npi,first_name,last_name,specialty,territory", f"{NPI},Ada,B,oncology,SW-9"
    )
    assert Territory.objects.filter(code="SW-9").exists()


def test_attribute_columns_upsert_and_parse_numbers():
    customer = CustomerFactory(npi=NPI)
    CustomerAttributeFactory(customer=customer, key="stage", value="early")
    run_import(
        "customers",
        "npi,first_name,last_name,specialty,attr.stage,attr.Score",
        f"{NPI},Ada,B,oncology,late,4.5",
    )
    attributes = {a.key: (a.value, a.number) for a in CustomerAttribute.objects.all()}
    assert attributes["stage"] == ("late", None)
    assert attributes["score"][0] == "4.5"
    assert float(attributes["score"][1]) == 4.5


def test_blank_attribute_cell_deletes_the_attribute():
    customer = CustomerFactory(npi=NPI)
    CustomerAttributeFactory(customer=customer, key="stage", value="early")
    result = run_import(
        "customers",
        "npi,first_name,last_name,specialty,attr.stage",
        f"{NPI},{customer.first_name},{customer.last_name},{customer.specialty},",
    )
    assert not CustomerAttribute.objects.exists()
    assert result.updated == 1


def test_attribute_absent_from_the_file_is_kept():
    customer = CustomerFactory(npi=NPI)
    CustomerAttributeFactory(customer=customer, key="stage", value="early")
    run_import(
        "customers", "npi,first_name,last_name,specialty,attr.other", f"{NPI},Ada,B,oncology,x"
    )
    assert CustomerAttribute.objects.get(key="stage").value == "early"


def test_account_parent_may_be_defined_later_in_the_same_file():
    result = run_import(
        "accounts",
        "account_id,name,account_type,parent_account_id",
        "H1,City Hospital,hospital,SYS",
        "SYS,Health System,Health System,",
    )
    assert result.created == 2
    assert Account.objects.get(account_id="H1").parent_id == "SYS"


def test_interaction_without_external_id_is_not_duplicated_on_reimport():
    customer = CustomerFactory(npi=NPI)
    lines = [
        "npi,occurred_at,channel,kind,topic",
        f"{NPI},2026-01-15T12:00:00+02:00,email,opened,safety",
    ]
    run_import("interactions", *lines)
    result = run_import("interactions", *lines)
    assert (result.created, result.unchanged) == (0, 1)
    interaction = Interaction.objects.get()
    assert interaction.customer == customer
    assert interaction.occurred_at == dt.datetime(2026, 1, 15, 10, tzinfo=dt.UTC)
    assert (interaction.topic, interaction.asset) == ("safety", "")


def test_interaction_matching_an_existing_natural_key_is_unchanged():
    customer = CustomerFactory(npi=NPI)
    InteractionFactory(customer=customer, occurred_at=dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC))
    result = run_import(
        "interactions", "npi,occurred_at,channel,kind", f"{NPI},2026-01-15T12:00:00Z,email,opened"
    )
    assert (result.created, result.unchanged) == (0, 1)
    assert Interaction.objects.count() == 1


def test_interaction_with_external_id_is_updated_by_it():
    CustomerFactory(npi=NPI)
    run_import(
        "interactions",
        "npi,occurred_at,channel,kind,external_id",
        f"{NPI},2026-01-15T12:00:00Z,email,opened,E-1",
    )
    result = run_import(
        "interactions",
        "npi,occurred_at,channel,kind,external_id",
        f"{NPI},2026-01-15T12:00:00Z,email,clicked,E-1",
    )
    assert result.updated == 1
    assert Interaction.objects.get().kind == "clicked"


def test_new_interactions_are_inserted_in_time_order_whatever_the_file_order():
    # The time-leading indexes then take each row beside the one before
    # (customers/importing/writers.py, InteractionWriter).
    first, second = CustomerFactory(npi=NPI), CustomerFactory(npi=valid_npi(2))
    run_import(
        "interactions",
        "npi,occurred_at,channel,kind",
        f"{NPI},2026-03-01T09:00:00Z,email,opened",
        f"{second.npi},2026-01-01T09:00:00Z,email,opened",
        f"{NPI},2026-02-01T09:00:00Z,webinar,attended",
    )
    in_id_order = list(Interaction.objects.order_by("pk").values_list("customer", "occurred_at"))
    assert [customer for customer, _ in in_id_order] == [second.pk, first.pk, first.pk]
    assert [t.month for _, t in in_id_order] == [1, 2, 3]


def test_rx_is_upserted_by_npi_month_and_product():
    CustomerFactory(npi=NPI)
    header = "npi,month,product,nrx,trx,new_patient_starts"
    run_import("rx", header, f"{NPI},2026-02,CARDIOZEN,1,2,0")
    result = run_import("rx", header, f"{NPI},2026-02,CARDIOZEN,3,4,1")
    assert (result.created, result.updated) == (0, 1)
    fact = RxFact.objects.get()
    assert fact.month == dt.date(2026, 2, 1)
    assert (fact.nrx, fact.trx, fact.new_patient_starts) == (3, 4, 1)


def test_headers_are_case_insensitive_and_trimmed_and_bom_is_tolerated():
    data = f"\ufeff NPI , First_Name,LAST_NAME ,Specialty\n{NPI},Ada,B,oncology\n".encode()
    result = import_file(kind="customers", file=io.BytesIO(data), file_name="c.csv")
    assert result.created == 1


def test_blank_lines_are_skipped():
    result = run_import(
        "customers", "npi,first_name,last_name,specialty", "", f"{NPI},Ada,B,oncology", ",,,"
    )
    assert result.rows == 1


def test_xlsx_import():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["npi", "first_name", "last_name", "specialty", "decile", "email_opt_out"])
    sheet.append([int(NPI), "Ada", "Byron", "Internal Medicine", 3, True])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    result = import_file(kind="customers", file=buffer, file_name="customers.xlsx")
    assert result.created == 1
    customer = Customer.objects.get(npi=NPI)
    assert (customer.specialty, customer.decile, customer.email_opt_out) == (
        "internal_medicine",
        3,
        True,
    )


def test_xlsx_errors_use_row_numbers():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["npi", "first_name", "last_name", "specialty"])
    sheet.append([NPI, "Ada", "Byron", "cardiology"])
    sheet.append(["1234567890", "Ada", "Byron", "cardiology"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc_info:
        import_file(kind="customers", file=buffer, file_name="customers.xlsx")
    assert [str(e) for e in exc_info.value.errors] == ["row 2: npi: invalid NPI check digit"]


def test_successful_import_records_an_import_run_and_an_audit_event(make_user):
    user = make_user("brand")
    run_import(
        "customers", "npi,first_name,last_name,specialty", f"{NPI},Ada,B,oncology", user=user
    )
    import_run = ImportRun.objects.get()
    assert (import_run.kind, import_run.file_name, import_run.rows, import_run.created) == (
        "customers",
        "customers.csv",
        1,
        1,
    )
    assert import_run.user == user
    event = AuditEvent.objects.get(action="data.imported")
    assert event.actor == user
    assert event.after["created"] == 1


def test_import_notifies_segmentation_of_changed_customers_only():
    unchanged = CustomerFactory(
        npi=valid_npi(2), first_name="Bo", last_name="C", specialty="oncology"
    )
    changed = CustomerFactory(npi=NPI, first_name="Ada", last_name="B", specialty="oncology")
    with announcements() as notify:
        run_import(
            "customers",
            "npi,first_name,last_name,specialty",
            f"{unchanged.npi},Bo,C,oncology",
            f"{changed.npi},Ada,B,cardiology",
            f"{valid_npi(3)},New,D,oncology",
        )
    new = Customer.objects.get(npi=valid_npi(3))
    assert sorted(notify.last["customer_ids"]) == sorted([changed.pk, new.pk])


def test_interaction_import_notifies_customers_with_new_interactions():
    customer = CustomerFactory(npi=NPI)
    CustomerFactory(npi=valid_npi(2))
    with announcements() as notify:
        run_import(
            "interactions",
            "npi,occurred_at,channel,kind",
            f"{NPI},2026-01-15T12:00:00Z,email,opened",
        )
    assert list(notify.last["customer_ids"]) == [customer.pk]


def test_import_from_a_path(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(
        csv_file("npi,first_name,last_name,specialty", f"{NPI},Ada,B,oncology").getvalue()
    )
    result = import_file(kind="customers", file=str(path), file_name="customers.csv")
    assert result.created == 1


def test_import_from_a_large_upload_on_disk_leaves_the_file_open():
    from django.core.files.uploadedfile import TemporaryUploadedFile

    upload = TemporaryUploadedFile("customers.csv", "text/csv", 0, "utf-8")
    upload.write(f"npi,first_name,last_name,specialty\n{NPI},Ada,B,oncology\n".encode())
    upload.seek(0)
    assert import_file(kind="customers", file=upload, file_name="customers.csv").created == 1
    assert not upload.closed


def test_a_decoding_error_deep_in_the_file_writes_nothing():
    customer = CustomerFactory(npi=NPI)
    good = "".join(
        f"{customer.npi},2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,email,opened,,A{i},\n"
        for i in range(600)
    )
    data = ("npi,occurred_at,channel,kind,topic,asset,external_id\n" + good).encode()
    data += f"{customer.npi},2026-02-01T00:00:00Z,email,opened,,caf\xe9,\n".encode("latin-1")
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc_info:
        import_file(kind="interactions", file=io.BytesIO(data), file_name="i.csv")
    assert [e.path for e in exc_info.value.errors] == ["file"]
    assert not Interaction.objects.exists()


def test_account_change_notifies_its_affiliated_customers():
    account = AccountFactory(account_id="H1", name="City", account_type="hospital")
    affiliated = CustomerFactory(account=account)
    CustomerFactory()
    with announcements() as notify:
        run_import("accounts", "account_id,name,account_type", "H1,City,academic_center")
    assert list(notify.last["customer_ids"]) == [affiliated.pk]


def test_unchanged_reimport_notifies_nobody():
    CustomerFactory(npi=NPI, first_name="Ada", last_name="B", specialty="oncology")
    with announcements() as notify:
        run_import("customers", "npi,first_name,last_name,specialty", f"{NPI},Ada,B,oncology")
    assert notify.calls == []
