"""Every hostile import file answers 400 naming what is wrong, never 500 and never
a long stall (docs/imports.md, "Limits")."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.csv import looks_like_formula
from customers.models import Customer
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

NPI = valid_npi(1)
HEADER = ["npi", "first_name", "last_name", "specialty", "decile"]


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite(data: bytes, part: str, change, *, stored: bool = False) -> bytes:
    """The workbook with one XML part rewritten (or added, from b""); ``stored``
    keeps that part uncompressed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            mode = zipfile.ZIP_DEFLATED
            if item.filename == part:
                body = change(body)
                mode = zipfile.ZIP_STORED if stored else mode
            dst.writestr(item, body, compress_type=mode)
        if part not in src.namelist():
            dst.writestr(part, change(b""), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def post(client, data: bytes, name: str = "customers.xlsx"):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post("/api/v1/imports/", {"kind": "customers", "file": upload})


def messages(response) -> list[str]:
    return [f"{e['path']}: {e['message']}" for e in response.json()["errors"]]


def test_formula_cell_is_refused_with_row_and_column(client_for):
    data = xlsx([HEADER, [NPI, "Ada", "King", "cardiology", "=5+5"]])
    response = post(client_for("admin"), data)
    assert response.status_code == 400
    assert "row 1: decile: formulas are not accepted" in messages(response)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("cell", ["=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3"])
def test_csv_cell_a_spreadsheet_would_run_is_refused(client_for, cell):
    text = ",".join(HEADER) + f"\n{NPI},{cell},King,cardiology,5\n"
    response = post(client_for("admin"), text.encode(), name="customers.csv")
    assert response.status_code == 400
    assert "row 1: first_name: formulas are not accepted" in messages(response)
    assert not Customer.objects.exists()


def test_csv_formula_after_a_signed_number_is_refused_in_its_own_column(client_for):
    # The row is suspected for its signed number, then checked cell by cell.
    text = ",".join(HEADER) + f"\n{NPI},-5,King,cardiology,=5\n"
    response = post(client_for("admin"), text.encode(), name="customers.csv")
    assert response.status_code == 400
    assert messages(response) == ["row 1: decile: formulas are not accepted"]


def test_csv_cells_with_signs_inside_their_text_are_imported(client_for):
    text = ",".join(HEADER) + f"\n{NPI},Ada-Mae,King@Home,cardiology,5\n"
    response = post(client_for("admin"), text.encode(), name="customers.csv")
    assert response.status_code in (200, 201), response.json()
    assert Customer.objects.get(npi=NPI).last_name == "King@Home"


def test_csv_signed_number_is_not_a_formula():
    assert [looks_like_formula(v) for v in ("-5", "+1.5", "-", "Ada")] == [False] * 4


def test_dtd_in_a_workbook_is_refused(client_for):
    def add_dtd(body: bytes) -> bytes:
        dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        return body.replace(b"<workbook", dtd + b"<workbook", 1)

    data = rewrite(
        xlsx([HEADER, [NPI, "Ada", "King", "cardiology", 5]]), "xl/workbook.xml", add_dtd
    )
    response = post(client_for("admin"), data)
    assert response.status_code == 400
    assert "DTD" in response.json()["errors"][0]["message"]


def test_shared_strings_bomb_is_refused_before_parsing(client_for, settings):
    settings.XLSX_MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
    base = xlsx([HEADER, [NPI, "Ada", "King", "cardiology", 5]])
    filler = b"<si><t>" + b"A" * 1000 + b"</t></si>"

    def bomb(body: bytes) -> bytes:
        return b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + (
            filler * 40_000 + b"</sst>"
        )

    data = rewrite(base, "xl/sharedStrings.xml", bomb)
    assert len(data) < 2 * 1024 * 1024  # small on the wire, 40 MB expanded
    started = time.monotonic()
    response = post(client_for("admin"), data)
    assert response.status_code == 400
    assert "zip bomb" in response.json()["errors"][0]["message"]
    assert time.monotonic() - started < 5


def test_row_bomb_is_cut_off_at_the_row_limit(client_for, settings):
    settings.XLSX_MAX_ROWS = 1000
    rows = [HEADER] + [[valid_npi(i), "A", "B", "cardiology", 1] for i in range(2, 1200)]
    started = time.monotonic()
    response = post(client_for("admin"), xlsx(rows))
    assert response.status_code == 400
    assert "more than 1000 rows" in response.json()["errors"][0]["message"]
    assert time.monotonic() - started < 20
    assert not Customer.objects.exists()


def test_a_cell_far_to_the_right_does_not_widen_every_row(client_for):
    def far_cell(body: bytes) -> bytes:
        return body.replace(b"</row>", b'<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>', 2)

    data = rewrite(
        xlsx([HEADER, [NPI, "Ada", "King", "cardiology", 5]]), "xl/worksheets/sheet1.xml", far_cell
    )
    response = post(client_for("admin"), data)
    assert response.status_code in (201, 400), response.content


def test_oversize_upload_is_refused(client_for, settings):
    settings.UPLOAD_MAX_BYTES = 100
    body = ("npi,first_name,last_name,specialty\n" + f"{NPI},Ada,King,cardiology\n" * 10).encode()
    response = post(client_for("admin"), body, "customers.csv")
    assert response.status_code == 400 and "larger than" in response.json()["errors"][0]["message"]


def test_nul_in_a_csv_cell_is_refused(client_for):
    body = f"npi,first_name,last_name,specialty\n{NPI},A\x00da,King,cardiology\n".encode()
    response = post(client_for("admin"), body, "customers.csv")
    assert response.status_code == 400
    assert "row 1: first_name: NUL characters are not accepted" in messages(response)


def test_not_a_workbook_is_refused(client_for):
    response = post(client_for("admin"), b"PK\x03\x04garbage")
    assert response.status_code == 400
