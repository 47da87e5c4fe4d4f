"""Differentiators: what sets a version's members apart, by standardized mean difference."""

from __future__ import annotations

import pytest

from segmentation.services import recompute_version
from tests.governance.support import draft

pytestmark = pytest.mark.django_db

HIGH_DECILE = {"field": "decile", "op": "gte", "value": 9}


@pytest.fixture
def version(population, make_user):
    version = draft(make_user("brand"), "top", entry_rule=HIGH_DECILE)
    recompute_version(version=version)
    return version


def test_decile_sets_a_high_decile_segment_apart(version, client_for):
    body = client_for("access").get("/api/v1/segments/top/differentiators/?version=1").json()
    assert body["method"] == "standardized_mean_difference"
    assert 0 < len(body["differentiators"]) <= 15
    top = body["differentiators"][0]
    assert top["feature"] == "decile"
    assert top["members_mean"] > 9 > top["non_members_mean"]


def test_a_version_without_members_has_none(population, make_user, client_for):
    draft(make_user("brand"), "never")
    body = client_for("medical").get("/api/v1/segments/never/differentiators/").json()
    assert body["members"] == 0 and body["differentiators"] == []


def test_unknown_version_is_404(version, client_for):
    response = client_for("brand").get("/api/v1/segments/top/differentiators/?version=7")
    assert response.status_code == 404


def test_field_leads_may_not_see_them(version, client_for):
    response = client_for("field_lead").get("/api/v1/segments/top/differentiators/")
    assert response.status_code == 403


def test_the_segment_page_loads_them(version, make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user("medical"))
    page = client.get("/segments/top/").content.decode()
    assert "/discovery/differentiators/top/?version=1" in page
    fragment = client.get("/discovery/differentiators/top/?version=1", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "standardized mean difference" in fragment.content.decode()
