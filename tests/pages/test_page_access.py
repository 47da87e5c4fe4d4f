"""Every page x every role: 200 for the roles docs/api.md lists, 403 otherwise;
anonymous visitors are sent to the login page."""

from __future__ import annotations

import pytest

ROLES = ("brand", "access", "medical", "compliance", "field_lead", "admin")

# "Who sees which page" (docs/api.md), admin everywhere.
PAGES = {
    "/dashboard/": {"brand", "access", "medical", "admin"},
    "/segments/": {"brand", "access", "medical", "compliance", "admin"},
    "/segments/cardio/": {"brand", "access", "medical", "compliance", "admin"},
    "/segments/new/": {"brand", "admin"},
    "/reviews/": {"brand", "access", "medical", "admin"},
    "/reviews/endo/v1/": {"brand", "access", "medical", "admin"},
    "/content/": {"brand", "compliance", "admin"},
    "/mappings/": {"compliance", "admin"},
    "/audit/": {"compliance", "admin"},
    "/territories/": {"field_lead", "admin"},
    "/territories/T001/": {"field_lead", "admin"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(world, make_user, page_client, role):
    """One world per role (not per page x role) keeps this matrix quick on two cores."""
    user = make_user(role, territories=["T001"] if role == "field_lead" else ())
    client = page_client(user)
    answered = {url: client.get(url).status_code for url in sorted(PAGES)}
    expected = {url: 200 if role in roles else 403 for url, roles in sorted(PAGES.items())}
    assert answered == expected


@pytest.mark.parametrize("url", [*sorted(PAGES), "/mappings/1/", "/territories/T001/export.csv"])
def test_anonymous_is_sent_to_login(world, client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_mapping_detail_for_compliance_only(world, page_client):
    url = f"/mappings/{world.mapping.pk}/"
    assert page_client(world.users.compliance).get(url).status_code == 200
    assert page_client(world.users.author).get(url).status_code == 403


def test_field_lead_refused_another_territory(world, page_client):
    client = page_client(world.users.field)
    assert client.get("/territories/T002/").status_code == 403
    assert client.get("/territories/T002/export.csv?segment=cardio").status_code == 403


def test_home_sends_each_role_to_a_page_it_may_open(world, make_user, page_client):
    for role, target in (
        ("brand", "/dashboard/"),
        ("compliance", "/inbox/"),
        ("field_lead", "/territories/"),
    ):
        response = page_client(make_user(role)).get("/")
        assert response.status_code == 302
        assert response["Location"] == target


def test_nav_shows_only_allowed_pages(world, page_client):
    html = page_client(world.users.field).get("/territories/").content.decode()
    assert 'href="/territories/"' in html
    for hidden in ("/segments/", "/audit/", "/mappings/", "/reviews/", "/dashboard/"):
        assert f'href="{hidden}"' not in html


def test_logout_needs_post(world, page_client):
    client = page_client(world.users.author)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/segments/").status_code == 302
