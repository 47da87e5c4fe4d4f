"""End to end through the API: the public files imported as published, a segment
"cardiologists in Massachusetts with Part D claims of CARDIOZEN" built on them
and taken through sign-off (docs/sources.md, step 5)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer
from tests.customers import public_files as pf
from tests.factories import valid_npi

from .support import PASSWORD

pytestmark = pytest.mark.django_db

MA_CARDIO, MA_CARDIO_OTHER_BRAND, NY_CARDIO, MA_DERM, MA_CARDIO_GONE = (
    valid_npi(n) for n in range(1, 6)
)
RULE = {
    "all": [
        {"field": "specialty", "op": "eq", "value": "cardiology"},
        {"field": "state", "op": "eq", "value": "MA"},
        {
            "rx": {"product": "CARDIOZEN"},
            "metric": "trx",
            # 24 months always hold the whole previous calendar year.
            "months": 24,
            "sum": {"op": "gte", "value": 1},
        },
    ]
}


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


def upload(author, kind: str, name: str, data: bytes, **fields) -> dict:
    response = client(author).post(
        "/api/v1/imports/",
        {"kind": kind, "file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_cardiologists_in_massachusetts_with_part_d_claims_of_cardiozen(make_user, settings):
    settings.RX_TRACKED_PRODUCTS = ["CARDIOZEN"]
    author = make_user("brand")
    nppes = [
        pf.individual(MA_CARDIO),
        pf.individual(MA_CARDIO_OTHER_BRAND, last="Other"),
        pf.individual(NY_CARDIO, state="NY", postal="10001"),
        pf.individual(MA_DERM, taxonomy="207N00000X"),
        pf.individual(MA_CARDIO_GONE, deactivated="01/15/2024"),
        pf.organization(valid_npi(9)),
    ]
    report = upload(author, "nppes", "npidata_pfile.csv", pf.csv_bytes(pf.NPPES, nppes))
    assert (report["rows"], report["created"]) == (6, 6)
    year = timezone.now().year - 1
    claims = [
        pf.prescription(MA_CARDIO, "Cardiozen", "14.5"),
        pf.prescription(MA_CARDIO_OTHER_BRAND, "OTHERBRAND", "50"),
        pf.prescription(NY_CARDIO, "CARDIOZEN", "20"),
        pf.prescription(MA_DERM, "CARDIOZEN", "20"),
        pf.prescription(MA_CARDIO_GONE, "CARDIOZEN", "20"),
    ]
    report = upload(
        author, "partd", "partd.csv", pf.csv_bytes(pf.PARTD, claims), data_year=str(year)
    )
    assert report["created"] == 4
    assert report["report"]["skipped"] == {"brand not tracked": 1}

    response = client(author).post(
        "/api/v1/segments/",
        {
            "key": "ma-cardio-cardiozen",
            "name": "MA cardiologists prescribing CARDIOZEN",
            "purpose": "promotional",
            "therapy_area": "cardiology",
            "indications": ["heart_failure"],
            "entry_rule": RULE,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert client(author).post("/api/v1/segments/ma-cardio-cardiozen/submit/").status_code == 200
    for team in ("brand", "access", "medical"):
        response = client(make_user(team)).post(
            "/api/v1/segments/ma-cardio-cardiozen/signatures/",
            {"team": team, "decision": "approve", "comment": "ok", "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 201, response.json()
    response = client(author).post("/api/v1/segments/ma-cardio-cardiozen/activate/")
    assert response.status_code == 200, response.json()
    members = client(author).get("/api/v1/segments/ma-cardio-cardiozen/members/").json()
    npis = {m["npi"] for m in members["results"]}
    assert npis == {MA_CARDIO}
    assert not Customer.objects.get(npi=MA_CARDIO_GONE).active
