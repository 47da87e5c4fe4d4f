"""The partd kind: yearly trx facts of tracked brands (docs/sources.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationFailed
from customers.importing.sources import fills
from customers.models import RxAnnualFact, RxYear
from customers.services import import_file
from tests.customers import public_files as pf
from tests.factories import CustomerFactory, RxFactFactory, valid_npi

pytestmark = pytest.mark.django_db

A, B, STRANGER = valid_npi(1), valid_npi(2), valid_npi(3)


def partd(tmp_path, rows):
    return pf.write(tmp_path / "MUP_DPR_RY24_P04_V10_DY22_NPIBN.csv", pf.csv_bytes(pf.PARTD, rows))


@pytest.fixture
def known(settings):
    settings.RX_TRACKED_PRODUCTS = ["Cardiozen"]
    a, b = CustomerFactory(npi=A), CustomerFactory(npi=B)
    RxFactFactory(customer=b, month=dt.date(2024, 1, 1), product="LIPIDAX")
    return a, b


@pytest.mark.parametrize(
    ("cell", "trx"), [("12", 12), ("12.5", 13), ("12.49", 12), ("0.5", 1), ("1234.0", 1234)]
)
def test_fills_round_half_up(cell, trx):
    assert fills(cell) == trx


def test_tracked_brands_become_yearly_facts_and_others_are_skipped(tmp_path, known):
    a, b = known
    rows = [
        pf.prescription(A, "CARDIOZEN", "40.5"),
        pf.prescription(A, "Lipidax", "10"),
        pf.prescription(B, "cardiozen", "", generic="x"),  # suppressed: missing, not zero
        pf.prescription(A, "OTHERBRAND", "99"),
        pf.prescription(STRANGER, "CARDIOZEN", "7"),
    ]
    result = import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": "2024"})
    facts = {
        (f.customer.npi, f.product, f.year): f.trx
        for f in RxAnnualFact.objects.select_related("customer")
    }
    assert facts == {
        (A, "Cardiozen", 2024): 41,
        (A, "LIPIDAX", 2024): 10,
        (B, "Cardiozen", 2024): None,
    }
    assert (result.rows, result.created, result.skipped) == (5, 3, 2)
    assert result.report["skipped"] == {"brand not tracked": 1, "prescriber not a customer": 1}
    assert result.report["notes"]["suppressed Tot_30day_Fills (imported as missing)"] == 1
    # The yearly sums the rx conditions read, under the product and under every product.
    year = RxYear.objects.get(customer=a, product="Cardiozen", year=2024)
    assert year.trx_year == 41
    assert RxYear.objects.get(customer=a, product="", year=2024).trx_year == 51


def test_reimport_is_unchanged_and_a_change_updates_in_place(tmp_path, known):
    a, _ = known
    rows = [pf.prescription(A, "CARDIOZEN", "40")]
    import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": "2024"})
    again = import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": "2024"})
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    rows = [pf.prescription(A, "CARDIOZEN", "45")]
    changed = import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": "2024"})
    assert (changed.created, changed.updated) == (0, 1)
    assert RxYear.objects.get(customer=a, product="", year=2024).trx_year == 45


def test_rows_of_several_generics_of_one_brand_add_up(tmp_path, known):
    rows = [
        pf.prescription(A, "CARDIOZEN", "4", generic="one"),
        pf.prescription(A, "CARDIOZEN", "5", generic="two"),
    ]
    result = import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": "2023"})
    assert RxAnnualFact.objects.get().trx == 9
    assert (result.created, result.unchanged) == (1, 0)


@pytest.mark.parametrize("year", ["", "24", "20x4"])
def test_the_data_year_is_required(tmp_path, known, year):
    rows = [pf.prescription(A, "CARDIOZEN", "4")]
    with pytest.raises(ValidationFailed) as caught:
        import_file(kind="partd", file=partd(tmp_path, rows), options={"data_year": year})
    assert caught.value.errors[0].path == "data_year"
    assert not RxAnnualFact.objects.exists()


def test_the_api_takes_the_data_year_as_a_form_field(client_for, known):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = pf.csv_bytes(pf.PARTD, [pf.prescription(A, "CARDIOZEN", "4")])
    response = client_for("brand").post(
        "/api/v1/imports/",
        {"kind": "partd", "data_year": "2024", "file": SimpleUploadedFile("partd.csv", data)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created"], body["skipped"]) == (1, 0)
    assert RxAnnualFact.objects.get().year == 2024
