"""Approved means fixed: content swaps after MLR approval are refused, files are
served only while they match the SHA-256 recorded at approval, and hostile
files and links are refused (docs/governance.md, "Integrity and access controls")."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from content.models import ContentAsset
from tests.governance.support import PASSWORD

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% approved content\n"
NEW = {
    "code": "US-CARD-0042",
    "title": "Heart failure dosing guide",
    "audience": "hcp",
    "intent": "promotional",
    "channels": ["email"],
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


def approved_asset(compliance) -> ContentAsset:
    c = client(compliance)
    data = {**NEW, "file": SimpleUploadedFile("guide.pdf", PDF, "application/pdf")}
    data["channels"] = "email"
    assert c.post("/api/v1/assets/", data, format="multipart").status_code == 201
    expires = (timezone.now() + dt.timedelta(days=30)).date().isoformat()
    assert c.patch(f"/api/v1/assets/{NEW['code']}/", {"expires_at": expires}, format="json")
    r = c.post(
        f"/api/v1/assets/{NEW['code']}/status/",
        {"status": "approved", "password": PASSWORD, "mlr_reference": "MLR-7"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    return ContentAsset.objects.get(code=NEW["code"])


def test_approval_records_the_files_sha256(make_user):
    asset = approved_asset(make_user("compliance"))
    assert asset.file_sha256 == hashlib.sha256(PDF).hexdigest()
    event = AuditEvent.objects.filter(action="asset.approved").get()
    assert event.after["file_sha256"] == asset.file_sha256


@pytest.mark.parametrize(
    "change",
    [
        {"link": "https://example.com/other"},
        {"mlr_reference": "MLR-FAKE"},
        {"title": "Swapped"},
        {"channels": ["email", "rep_visit"]},
        {"indications": ["asthma"]},
    ],
)
def test_content_swap_after_approval_is_refused(make_user, change):
    compliance = make_user("compliance")
    approved_asset(compliance)
    before_events = AuditEvent.objects.count()
    r = client(compliance).patch(f"/api/v1/assets/{NEW['code']}/", change, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["errors"][0]["path"] == next(iter(change))
    asset = ContentAsset.objects.get()
    assert asset.mlr_status == "approved"
    assert getattr(asset, next(iter(change))) != change[next(iter(change))]
    assert AuditEvent.objects.count() == before_events


def test_file_swap_after_approval_is_refused(make_user):
    compliance = make_user("compliance")
    asset = approved_asset(compliance)
    upload = SimpleUploadedFile("guide.pdf", b"%PDF-1.4\n% swapped\n", "application/pdf")
    r = client(compliance).patch(
        f"/api/v1/assets/{NEW['code']}/", {"file": upload}, format="multipart"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "file"
    assert ContentAsset.objects.get().file.name == asset.file.name


def test_edit_of_a_draft_shows_every_field_in_before_and_after(make_user):
    compliance = make_user("compliance")
    c = client(compliance)
    c.post("/api/v1/assets/", NEW, format="json")
    r = c.patch(
        f"/api/v1/assets/{NEW['code']}/",
        {"link": "https://example.com/a", "mlr_reference": "MLR-9"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    event = AuditEvent.objects.filter(action="asset.updated").get()
    assert (event.before["link"], event.after["link"]) == ("", "https://example.com/a")
    assert (event.before["mlr_reference"], event.after["mlr_reference"]) == ("", "MLR-9")


def test_approved_file_is_served_while_it_matches(make_user):
    approved_asset(make_user("compliance"))
    r = client(make_user("brand")).get(f"/api/v1/assets/{NEW['code']}/file/")
    assert r.status_code == 200 and r.content == PDF


def test_a_file_changed_on_disk_after_approval_is_never_served(make_user):
    asset = approved_asset(make_user("compliance"))
    storage = asset.file.storage
    storage.delete(asset.file.name)
    storage.save(asset.file.name, ContentFile(b"%PDF-1.4\n% tampered\n"))
    r = client(make_user("brand")).get(f"/api/v1/assets/{NEW['code']}/file/")
    assert r.status_code == 409
    assert AuditEvent.objects.filter(action="asset.file_refused").exists()


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "data:text/html,<script>x</script>", "ftp://x", "not a url"]
)
def test_only_http_links_are_accepted(make_user, link):
    r = client(make_user("compliance")).post(
        "/api/v1/assets/", {**NEW, "link": link}, format="json"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "link"
    assert not ContentAsset.objects.exists()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("run.svg", b"<svg onload=alert(1)>"),
        ("noext", b"%PDF-1.4"),
    ],
)
def test_only_listed_file_types_are_accepted(make_user, name, body):
    upload = SimpleUploadedFile(name, body, "text/html")
    r = client(make_user("compliance")).post(
        "/api/v1/assets/", {**NEW, "channels": "email", "file": upload}, format="multipart"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "file"
    assert not ContentAsset.objects.exists()


def test_oversize_asset_file_is_refused(make_user, settings):
    settings.ASSET_MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 200, "application/pdf")
    r = client(make_user("compliance")).post(
        "/api/v1/assets/", {**NEW, "channels": "email", "file": upload}, format="multipart"
    )
    assert r.status_code == 400 and "larger than" in r.json()["errors"][0]["message"]
