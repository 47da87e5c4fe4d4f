"""Discovery pages: who may open them, describing a list and opening the suggestion as a draft."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from .conftest import THREE_CONDITIONS, members_of

pytestmark = pytest.mark.django_db


def _client(make_user, *roles) -> Client:
    client = Client()
    client.force_login(make_user(*roles))
    return client


@pytest.mark.parametrize("role", ["brand", "admin"])
def test_brand_and_admin_open_the_page(make_user, role):
    page = _client(make_user, role).get("/discovery/")
    assert page.status_code == 200
    assert "Start from a list" in page.content.decode()
    assert "Find personas" in page.content.decode()


@pytest.mark.parametrize("role", ["access", "medical", "compliance", "field_lead"])
def test_other_roles_get_403(make_user, role):
    assert _client(make_user, role).get("/discovery/").status_code == 403
    assert _client(make_user, role).post("/discovery/personas/", {}).status_code == 403


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/discovery/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_shows_discovery_to_brand_only(make_user):
    assert 'href="/discovery/"' in _client(make_user, "brand").get("/segments/").content.decode()
    assert (
        'href="/discovery/"' not in _client(make_user, "medical").get("/segments/").content.decode()
    )


def test_describe_shows_the_rule_and_opens_it_as_a_draft(population, make_user):
    client = _client(make_user, "brand")
    npis = "\n".join(members_of(THREE_CONDITIONS))
    fragment = client.post(
        "/discovery/describe/",
        {"npis": npis, "as_of": "2026-06-30T12:00:00Z"},
        HTTP_HX_REQUEST="true",
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "specialty is cardiology or endocrinology" in html
    assert "Precision" in html and "Open as draft" in html
    href = html.split('class="button primary" href="')[1].split('"')[0].replace("&amp;", "&")
    query = parse_qs(urlparse(href).query)
    assert json.loads(query["provenance"][0])["discovery"] > 0
    form = client.get(href).content.decode()
    assert "cardiology" in form and 'name="provenance"' in form


def test_uploaded_file_of_npis_is_read(population, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client(make_user, "brand")
    body = "npi\n" + "\n".join(members_of(THREE_CONDITIONS))
    upload = SimpleUploadedFile("list.csv", body.encode(), content_type="text/csv")
    page = client.post("/discovery/describe/", {"file": upload})
    assert page.status_code == 200 and "Open as draft" in page.content.decode()


def test_bad_list_shows_the_message_next_to_the_form(population, make_user):
    page = _client(make_user, "brand").post("/discovery/describe/", {"npis": "123 456"})
    assert page.status_code == 400
    assert "at least 10" in page.content.decode()


def test_personas_table_has_sizes_labels_bars_and_drafts(population, make_user):
    page = _client(make_user, "brand").post(
        "/discovery/personas/", {"k": "2", "families": ["profile", "rx"]}, HTTP_HX_REQUEST="true"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("Open as draft") == 2
    assert 'class="pbar persona"' in html


def test_text_from_the_list_is_escaped(population, make_user):
    page = _client(make_user, "brand").post(
        "/discovery/describe/", {"npis": " ".join(f"<b>{i}</b>" for i in range(12))}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "<b>1</b>" not in html and "&lt;b&gt;1&lt;/b&gt;" in html


def test_saving_the_prefilled_form_keeps_the_provenance(population, make_user):
    from segmentation.models import SegmentVersion

    client = _client(make_user, "brand")
    body = client.post(  # session authentication reaches the API too
        "/api/v1/discovery/describe/",
        {"npis": members_of(THREE_CONDITIONS), "as_of": "2026-06-30T12:00:00Z"},
        content_type="application/json",
    ).json()
    response = client.post(
        "/segments/new/",
        {
            "key": "from-page",
            "name": "From the page",
            "purpose": "promotional",
            "entry_rule": json.dumps(body["entry_rule"]),
            "provenance": json.dumps({"discovery": body["id"]}),
            "confirm_scope": "1",  # its windows lie before today: it selects no one now
        },
    )
    assert response.status_code == 302
    provenance = SegmentVersion.objects.get(segment__key="from-page").provenance
    assert provenance["discovery"] == body["id"] and provenance["edited"] is False
