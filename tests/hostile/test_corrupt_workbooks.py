"""Damaged workbooks answer 400 naming the problem (never 500), through the API and
the ``/imports/`` page, and rows are read by iterating the sheet, whatever its
``<dimension>`` says (docs/imports.md, "Limits"). Every hostile file is built here."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.models import Customer, ImportRun
from tests.factories import valid_npi
from tests.hostile.test_hostile_files import rewrite

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"
HEADER = ["npi", "first_name", "last_name", "specialty", "decile", "state"]
ROWS = [[valid_npi(i), "Ada", f"King{i}", "cardiology", "5", "MA"] for i in range(1, 7)]


def workbook(rows=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [HEADER, *(ROWS if rows is None else rows)]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def repack(data: bytes, change=lambda body: body, *, stored: bool = False) -> bytes:
    return rewrite(data, SHEET, change, stored=stored)


def stale_dimension() -> bytes:
    return repack(
        workbook(), lambda body: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:F2"', body)
    )


def truncated_sheet_xml() -> bytes:
    return repack(workbook(), lambda body: body[: len(body) // 2])


def _sheet_data_span(data: bytes) -> tuple[int, int]:
    """Where the sheet part's compressed bytes lie in the archive."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET)
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.compress_size


def corrupt_deflate() -> bytes:
    data = workbook()
    start, end = _sheet_data_span(data)
    # Block type 3 is reserved: zlib refuses the stream ("invalid block type").
    return data[:start] + b"\xff" * (end - start) + data[end:]


def crc_mismatch() -> bytes:
    data = repack(workbook(), stored=True)
    start, end = _sheet_data_span(data)
    body = data[start:end]
    changed = body.replace(b"King1", b"Kong1", 1)
    assert changed != body
    return data[:start] + changed + data[end:]


def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 200


def truncated_zip() -> bytes:
    data = workbook()
    return data[: len(data) // 2]


CORRUPT = {
    "truncated sheet XML": (truncated_sheet_xml, "XML"),
    "corrupt deflate data": (corrupt_deflate, "compressed data"),
    "CRC mismatch": (crc_mismatch, "CRC"),
    "not a zip": (not_a_zip, "not a readable XLSX workbook"),
    "truncated zip": (truncated_zip, "not a readable XLSX workbook"),
}


def api_post(client, data: bytes):
    upload = SimpleUploadedFile("hcps.xlsx", data, content_type="application/octet-stream")
    return client.post("/api/v1/imports/", {"kind": "customers", "file": upload})


def test_a_stale_dimension_does_not_cut_the_sheet_short(client_for):
    data = stale_dimension()
    assert b'ref="A1:F2"' in zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    response = api_post(client_for("admin"), data)
    assert response.status_code == 201, response.content
    assert response.json()["rows"] == 6
    assert Customer.objects.count() == 6


@pytest.mark.parametrize("name", list(CORRUPT))
def test_a_corrupt_workbook_is_a_400_naming_the_problem_through_the_api(client_for, name):
    build, words = CORRUPT[name]
    response = api_post(client_for("admin"), build())
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors[0]["path"] == "file"
    assert words in errors[0]["message"], errors
    assert not Customer.objects.exists()


@pytest.mark.parametrize("name", list(CORRUPT))
def test_a_corrupt_workbook_is_refused_on_the_imports_page(make_user, settings, tmp_path, name):
    settings.MEDIA_ROOT = tmp_path
    build, words = CORRUPT[name]
    client = Client()
    client.force_login(make_user("brand"))
    upload = SimpleUploadedFile("hcps.xlsx", build(), "application/octet-stream")
    response = client.post("/imports/", {"kind": "customers", "file": upload})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.state == "invalid"
    assert any(words in error for error in run.errors), run.errors
    page = client.get(response["Location"])
    assert page.status_code == 200 and words in page.content.decode()
    assert not Customer.objects.exists()
