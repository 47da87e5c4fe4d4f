"""Help inside the product: guides per role, the "How do I…?" link, import templates."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.help import GUIDES
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db


def test_help_index_links_every_guide(world, page_client):
    html = page_client(world.users.field).get("/help/").content.decode()
    for slug in GUIDES:
        if slug != "index":
            assert f'href="/help/{slug}/"' in html


@pytest.mark.parametrize("slug", [s for s in GUIDES if s != "index"])
def test_every_guide_renders_with_heading_anchors(world, page_client, slug):
    response = page_client(world.users.author).get(f"/help/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="guide"' in html and "<h1>" in html
    assert "docs/" not in html.split('data-testid="guide"')[1]


def test_guides_answer_404_for_unknown_and_need_sign_in(world, page_client, client):
    assert page_client(world.users.author).get("/help/nope/").status_code == 404
    assert client.get("/help/brand/").status_code == 302


@pytest.mark.parametrize(
    ("who", "guide"),
    [
        ("author", "brand"),
        ("access", "reviewer"),
        ("compliance", "compliance"),
        ("field", "field-lead"),
        ("admin", "admin"),
    ],
)
def test_every_page_links_the_role_guide(world, page_client, who, guide):
    user = getattr(world.users, who)
    landing = page_client(user).get("/", follow=True).content.decode()
    assert "How do I…?" in landing and f'href="/help/{guide}/"' in landing


@pytest.mark.parametrize(
    ("who", "guide"),
    [
        ("author", "brand"),
        ("compliance", "compliance"),
        ("field", "field-lead"),
        ("admin", "admin"),
    ],
)
def test_every_link_of_a_guide_opens_for_its_reader(world, page_client, who, guide):
    import re

    client = page_client(getattr(world.users, who))
    body = client.get(f"/help/{guide}/").content.decode().split('data-testid="guide"')[1]
    links = set(re.findall(r'href="(/[^"#]*)', body))
    # /health/ runs its checks in threads of their own (tests/test_operations.py opens it).
    for link in links - {"/health/"}:
        assert client.get(link).status_code == 200, link
    if guide == "admin":
        # The pages no menu lists: the help is how an administrator finds them.
        assert {"/destinations/", "/deliveries/", "/health/"} <= links


def test_membership_passage_is_linked_from_the_impact(world, page_client):
    html = page_client(world.users.author).get("/help/brand/").content.decode()
    assert 'id="membership-and-the-exit-rule"' in html


def test_import_templates_download_and_import_cleanly(world, page_client, make_user):
    client = page_client(world.users.author)
    html = client.get("/imports/").content.decode()
    assert 'href="/imports/templates/customers.csv"' in html
    TerritoryFactory(code="NE-BOS", name="Boston")
    api = APIClient()
    api.force_authenticate(make_user("admin"))
    for kind in ("accounts", "customers", "interactions", "rx"):
        response = client.get(f"/imports/templates/{kind}.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        upload = SimpleUploadedFile(f"{kind}.csv", response.content, content_type="text/csv")
        result = api.post("/api/v1/imports/", {"kind": kind, "file": upload}, format="multipart")
        assert result.status_code in (200, 201, 202), (kind, result.content)
    assert client.get("/imports/templates/nope.csv").status_code == 404
