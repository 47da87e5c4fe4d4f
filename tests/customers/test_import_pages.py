"""Imports in the browser: upload, check (nothing written), confirm, history, status
(docs/imports.md, "In the browser"); the ``assets`` kind registered by content."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from content.models import ContentAsset
from customers.models import Customer, ImportRun
from tests.customers.helpers import post_import_with_workers
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

NPI = valid_npi(7)
GOOD = f"npi,first_name,last_name,specialty\n{NPI},Ada,Byron,cardiology\n".encode()
BAD = (
    f"npi,first_name,last_name,specialty\n{NPI},Ada,Byron,cardiology\n"
    "1234567890,Bob,Crane,cardiology\n"
).encode()
ASSETS = (
    b"code,title,audience,intent,therapy_area,indications,channels,mlr_reference\n"
    b"US-CARD-0900,HF dosing card,hcp,promotional,cardiology,heart_failure,email;rep_visit,MLR-9\n"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _client(make_user, *roles) -> tuple[Client, object]:
    user = make_user(*roles)
    client = Client()
    client.force_login(user)
    return client, user


def _upload(client, kind: str, data: bytes, name: str = "file.csv"):
    page = "/content/import/" if kind == "assets" else "/imports/"
    return client.post(page, {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")})


def test_upload_is_checked_and_nothing_is_written_until_confirmed(make_user):
    client, _ = _client(make_user, "brand")
    response = _upload(client, "customers", GOOD, "hcps.csv")
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert (run.state, run.rows, run.created) == ("checked", 1, 1)
    assert not Customer.objects.filter(npi=NPI).exists()
    html = client.get(response["Location"]).content.decode()
    assert "Confirm and import 1 rows" in html
    response = client.post(f"/imports/{run.pk}/confirm/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == "succeeded"
    assert Customer.objects.filter(npi=NPI).exists()
    history = client.get("/imports/").content.decode()
    assert "hcps.csv" in history and "succeeded" in history


def test_check_lists_every_error_as_row_column_message(make_user):
    client, _ = _client(make_user, "brand")
    response = _upload(client, "customers", BAD)
    html = client.get(response["Location"]).content.decode()
    assert "row 2: npi:" in html
    assert ImportRun.objects.get().state == "invalid"
    assert not Customer.objects.exists()


def test_a_checked_import_is_confirmed_once(make_user):
    client, _ = _client(make_user, "brand")
    _upload(client, "customers", GOOD)
    run = ImportRun.objects.get()
    client.post(f"/imports/{run.pk}/confirm/")
    assert client.post(f"/imports/{run.pk}/confirm/").status_code == 400


def test_another_users_import_is_refused(make_user):
    client, _ = _client(make_user, "brand")
    _upload(client, "customers", GOOD)
    run = ImportRun.objects.get()
    other, _ = _client(make_user, "brand")
    assert other.get(f"/imports/{run.pk}/").status_code == 403


@pytest.mark.parametrize("role", ["access", "medical", "field_lead"])
def test_import_pages_refused_to_other_roles(make_user, role):
    client, _ = _client(make_user, role)
    assert client.get("/imports/").status_code == 403


def test_status_endpoint_has_the_task_shape(make_user, api_client):
    client, user = _client(make_user, "brand")
    _upload(client, "customers", GOOD)
    run = ImportRun.objects.get()
    api_client.force_authenticate(user=user)
    body = api_client.get(f"/api/v1/imports/{run.pk}/").json()
    assert body["state"] == "succeeded" and body["progress"] == 1.0
    assert body["result"]["created"] == 1 and body["result"]["written"] is False


def test_api_import_answers_202_with_a_task_when_workers_run(make_user, api_client, settings):
    user = make_user("brand")
    api_client.force_authenticate(user=user)
    response, queued = post_import_with_workers(api_client, "customers", GOOD)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["task_id"] and queued.called
    assert ImportRun.objects.get(pk=body["import_run_id"]).state == "queued"
    task = api_client.get(f"/api/v1/tasks/{body['task_id']}/").json()
    assert task["state"] == "pending"
    assert not Customer.objects.filter(npi=NPI).exists()


def test_an_api_import_run_as_a_job_reports_its_result_on_the_tasks_endpoint(make_user, api_client):
    from core.jobs import start_job
    from customers import import_runs, tasks

    user = make_user("brand")
    api_client.force_authenticate(user=user)
    run = import_runs.store_upload(
        kind="customers",
        upload=SimpleUploadedFile("c.csv", GOOD, "text/csv"),
        user=user,
        state="queued",
    )
    job = start_job(kind="import", owner=user)
    tasks.queue_import_step(run, "write", job_id=str(job.pk))
    body = api_client.get(f"/api/v1/tasks/{job.pk}/").json()
    assert body["state"] == "succeeded" and body["result"]["created"] == 1


def test_compliance_has_no_imports_page(make_user):
    client, _ = _client(make_user, "compliance")
    assert client.get("/imports/").status_code == 403


def test_compliance_imports_assets_as_drafts(make_user):
    client, _ = _client(make_user, "compliance")
    html = client.get("/content/import/").content.decode()
    assert 'value="assets"' in html and 'value="customers"' not in html
    _upload(client, "assets", ASSETS, "mlr-export.csv")
    run = ImportRun.objects.get()
    assert (run.state, run.created) == ("checked", 1)
    assert not ContentAsset.objects.exists()
    client.post(f"/imports/{run.pk}/confirm/")
    asset = ContentAsset.objects.get(code="US-CARD-0900")
    assert (asset.mlr_status, asset.channels) == ("draft", ["email", "rep_visit"])
    # The same file again changes nothing.
    _upload(client, "assets", ASSETS, "mlr-export.csv")
    assert ImportRun.objects.latest("id").unchanged == 1


def test_asset_import_refuses_an_unknown_indication(make_user):
    client, _ = _client(make_user, "compliance")
    bad = ASSETS.replace(b"heart_failure", b"heart_failur")
    response = _upload(client, "assets", bad)
    html = client.get(response["Location"]).content.decode()
    assert "row 1: indications: unknown value" in html


def test_brand_cannot_import_assets(make_user):
    client, _ = _client(make_user, "brand")
    response = _upload(client, "assets", ASSETS)
    assert response.status_code == 403
