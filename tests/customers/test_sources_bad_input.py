"""Bad public files: 400 with the row and column, nothing written (docs/sources.md, "Bad files")."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ValidationFailed
from customers.models import Account, Customer, ImportRun, RxAnnualFact
from customers.services import import_file
from tests.customers import public_files as pf
from tests.factories import CustomerFactory, valid_npi

pytestmark = pytest.mark.django_db

A, B = valid_npi(1), valid_npi(2)


def problems(kind, data: bytes, tmp_path, **options) -> list[str]:
    path = pf.write(tmp_path / f"{kind}.csv", data)
    with pytest.raises(ValidationFailed) as caught:
        import_file(kind=kind, file=path, options=options)
    return [str(e) for e in caught.value.errors]


def nppes_bytes(rows):
    return pf.csv_bytes(pf.NPPES, rows)


def test_a_missing_required_column_is_named(tmp_path):
    header = [h for h in pf.PARTD if h != "Tot_30day_Fills"]
    data = pf.csv_bytes(header, [])
    assert problems("partd", data, tmp_path, data_year="2024") == [
        "header: missing required column 'Tot_30day_Fills'"
    ]


def test_a_file_of_another_kind_says_which(tmp_path):
    data = pf.csv_bytes(pf.PARTD, [pf.prescription(A, "CARDIOZEN", "4")])
    found = problems("nppes", data, tmp_path)
    assert found[0] == (
        "header: this is a Part D Prescribers by Provider and Drug file, not an NPPES "
        "npidata_pfile file: choose the kind 'partd'"
    )
    assert "header: missing required column 'NPI'" in found


def test_a_wrong_delimiter_is_named(tmp_path):
    data = ";".join(pf.NUCC).encode() + b"\n207RC0000X;Allopathic;Internal Medicine;;;;;\n"
    found = problems("taxonomy", data, tmp_path)
    assert found[0] == (
        "header: the header is one column: the file must be comma-separated, as published"
    )


def test_a_wrong_encoding_names_row_and_column(tmp_path):
    good = nppes_bytes([pf.individual(A), pf.individual(B, first="Zoe")])
    data = good.replace(b'"Zoe"', '"Zoë"'.encode("latin-1"))
    assert problems("nppes", data, tmp_path) == [
        "row 2: Provider First Name: is not UTF-8 text (or holds NUL characters)"
    ]
    assert not Customer.objects.exists()


def test_a_truncated_file_names_the_row_and_first_missing_column(tmp_path):
    data = nppes_bytes([pf.individual(A), pf.individual(B)])
    cut = data[: data.rindex(b'"Y"')]  # the last row stops in its taxonomy columns
    found = problems("nppes", cut.rstrip(b",") + b"\r\n", tmp_path)
    assert len(found) == 1
    assert found[0].startswith("row 2: ")
    assert "the row ends after" in found[0] and "truncated" in found[0]
    assert not Customer.objects.exists()


def test_an_unterminated_quote_names_the_row(tmp_path):
    data = nppes_bytes([pf.individual(A)]) + b'"' + B.encode() + b'","1","' + b"x" * 10
    found = problems("nppes", data, tmp_path)
    assert found[0].startswith("row 2")


def test_bad_cells_are_listed_and_nothing_is_written(tmp_path):
    rows = [
        pf.individual(A),
        pf.individual("1234567890"),
        {**pf.individual(B), "Entity Type Code": "3"},
        pf.individual(valid_npi(3), deactivated="2024-13-45"),
        pf.individual(A),
    ]
    found = problems("nppes", nppes_bytes(rows), tmp_path)
    assert found == [
        "row 2: NPI: invalid NPI check digit",
        "row 3: Entity Type Code: must be 1 (individual) or 2 (organization)",
        "row 4: NPI Deactivation Date: must be a date as MM/DD/YYYY",
    ]
    # The repeated NPI is found once the cells are clean.
    found = problems("nppes", nppes_bytes([rows[0], rows[4]]), tmp_path)
    assert found == ["row 2: NPI: duplicates row 1"]
    assert not Customer.objects.exists() and not Account.objects.exists()


def test_partd_bad_fills_and_extra_columns_ignored(tmp_path):
    CustomerFactory(npi=A)
    header = [*pf.PARTD, "Some_Future_Column"]
    rows = [{**pf.prescription(A, "CARDIOZEN", "many"), "Some_Future_Column": "x"}]
    found = problems("partd", pf.csv_bytes(header, rows), tmp_path, data_year="2024")
    assert found == ["row 1: Tot_30day_Fills: must be a number"]
    assert not RxAnnualFact.objects.exists()


def test_the_api_answers_400_with_row_and_column(client_for):
    data = nppes_bytes([pf.individual("1234567890")])
    response = client_for("brand").post(
        "/api/v1/imports/",
        {"kind": "nppes", "file": SimpleUploadedFile("npidata_pfile.csv", data)},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"path": "row 1: NPI", "message": "invalid NPI check digit"}]
    }
    assert not Customer.objects.exists()
    assert not ImportRun.objects.exists()
