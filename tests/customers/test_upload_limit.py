"""One upload size limit, ``UPLOAD_MAX_BYTES``, for every entry point: the API (eager or
queued for workers), the ``/imports/`` and ``/content/import/`` pages; a body over it
is refused before it is read (docs/imports.md, "Limits"; docs/api.md)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.models import Customer, ImportRun
from tests.customers.helpers import post_import_with_workers
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

NPI = valid_npi(100)
BODY = (
    "npi,first_name,last_name,specialty\n"
    + "".join(f"{valid_npi(100 + i)},Ada,King,cardiology\n" for i in range(40))
).encode()
DOCS = Path(django_settings.BASE_DIR) / "docs"


@pytest.fixture(autouse=True)
def _small_limit(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_MAX_BYTES = 200


def _page(make_user, role="brand") -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def _stored(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("role", "page", "kind"),
    [("brand", "/imports/", "customers"), ("compliance", "/content/import/", "assets")],
)
def test_the_import_pages_refuse_a_file_over_the_limit(make_user, settings, role, page, kind):
    client = _page(make_user, role)
    response = client.post(
        page, {"kind": kind, "file": SimpleUploadedFile("big.csv", BODY, "text/csv")}
    )
    assert response.status_code == 400
    assert "larger than the 200 bytes" in response.content.decode()
    assert not ImportRun.objects.exists() and not _stored(settings)


def test_the_imports_page_refuses_a_huge_body_unread_with_a_plain_message(make_user, settings):
    client = _page(make_user)
    big = SimpleUploadedFile("huge.csv", BODY * 2000, "text/csv")
    with mock.patch("customers.import_runs.store_upload") as stored:
        response = client.post("/imports/", {"kind": "customers", "file": big})
    assert response.status_code == 400
    html = response.content.decode()
    assert "File too large" in html and "larger than the 200 bytes" in html
    assert not stored.called and not _stored(settings)


def test_the_api_refuses_a_huge_body_in_its_error_shape(client_for):
    big = SimpleUploadedFile("huge.csv", BODY * 2000, "text/csv")
    response = client_for("admin").post("/api/v1/imports/", {"kind": "customers", "file": big})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["path"] == "file" and "larger than" in error["message"]


def test_the_api_refuses_a_file_over_the_limit_when_workers_run(make_user, api_client, settings):
    api_client.force_authenticate(user=make_user("brand"))
    response, queued = post_import_with_workers(api_client, "customers", BODY)
    assert response.status_code == 400, response.content
    assert "larger than" in response.json()["errors"][0]["message"]
    assert not queued.called and not ImportRun.objects.exists() and not _stored(settings)


def test_a_file_at_the_limit_is_accepted(client_for, settings):
    settings.UPLOAD_MAX_BYTES = len(BODY)
    upload = SimpleUploadedFile("c.csv", BODY, "text/csv")
    response = client_for("admin").post("/api/v1/imports/", {"kind": "customers", "file": upload})
    assert response.status_code == 201, response.content
    assert Customer.objects.filter(npi=NPI).exists()


def test_djangos_upload_settings_agree_with_the_limit_and_the_docs_name_it():
    from config import settings as configured

    assert configured.FILE_UPLOAD_MAX_MEMORY_SIZE <= configured.UPLOAD_MAX_BYTES
    for doc in ("imports.md", "api.md"):
        assert "UPLOAD_MAX_BYTES" in (DOCS / doc).read_text(), doc
