"""POST /api/v1/imports/ and ``manage.py import_data``: roles, answers, exit codes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from customers.models import Customer, ImportRun
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

NPI = valid_npi(1)
GOOD = f"npi,first_name,last_name,specialty\n{NPI},Ada,Byron,cardiology\n".encode()
BAD = b"npi,first_name,last_name,specialty\n1234567890,Ada,Byron,cardiology\n"


def upload(data: bytes, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.parametrize("role", ["admin", "brand"])
def test_admin_and_brand_may_import(client_for, role):
    client = client_for(role)
    response = client.post(
        "/api/v1/imports/", {"kind": "customers", "file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 1
    assert Customer.objects.filter(npi=NPI).exists()


@pytest.mark.parametrize("role", ["access", "medical", "compliance", "field_lead"])
def test_other_roles_are_refused_and_nothing_is_written(client_for, role):
    client = client_for(role)
    response = client.post(
        "/api/v1/imports/", {"kind": "customers", "file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"]
    assert not Customer.objects.exists()
    assert not ImportRun.objects.exists()


def test_anonymous_import_is_refused(api_client):
    response = api_client.post(
        "/api/v1/imports/", {"kind": "customers", "file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code in (401, 403)
    assert not Customer.objects.exists()


def test_invalid_file_answers_400_with_row_paths(client_for):
    response = client_for("brand").post(
        "/api/v1/imports/", {"kind": "customers", "file": upload(BAD)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"path": "row 1: npi", "message": "invalid NPI check digit"}]
    }
    assert not Customer.objects.exists()


def test_unknown_kind_answers_400(client_for):
    response = client_for("brand").post(
        "/api/v1/imports/", {"kind": "patients", "file": upload(GOOD)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "kind"


def test_missing_file_answers_400(client_for):
    response = client_for("brand").post(
        "/api/v1/imports/", {"kind": "customers"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "file"


def test_binary_garbage_answers_400_not_500(client_for):
    response = client_for("admin").post(
        "/api/v1/imports/",
        {"kind": "customers", "file": upload(b"PK\x03\x04garbage", "x.xlsx")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "file"


def test_command_prints_a_summary_and_exits_0(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_bytes(GOOD)
    call_command("import_data", "--kind", "customers", str(path))
    assert "1 created" in capsys.readouterr().out
    assert Customer.objects.filter(npi=NPI).exists()


def test_command_prints_error_lines_and_exits_1(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_bytes(BAD + b",Ada,Byron,cardiology\n")
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_data", "--kind", "customers", str(path))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "row 1: npi: invalid NPI check digit",
        "row 2: npi: is required",
    ]
    assert not Customer.objects.exists()


ASSETS = (
    b"code,title,audience,intent,therapy_area,indications,channels,mlr_reference\n"
    b"US-CARD-0901,HF dosing card,hcp,promotional,cardiology,heart_failure,email,MLR-9\n"
)


def test_compliance_imports_assets_through_the_api(client_for):
    from content.models import ContentAsset

    response = client_for("compliance").post(
        "/api/v1/imports/", {"kind": "assets", "file": upload(ASSETS, "assets.csv")}
    )
    assert response.status_code == 201, response.content
    assert ContentAsset.objects.get(code="US-CARD-0901").mlr_status == "draft"


@pytest.mark.parametrize(("role", "kind"), [("compliance", "customers"), ("brand", "assets")])
def test_each_kind_stays_with_its_roles_through_the_api(client_for, role, kind):
    body = GOOD if kind == "customers" else ASSETS
    response = client_for(role).post("/api/v1/imports/", {"kind": kind, "file": upload(body)})
    assert response.status_code == 403
    assert not Customer.objects.exists() and not ImportRun.objects.exists()
