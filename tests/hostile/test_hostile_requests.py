"""Hostile requests answer 4xx with the error shape of docs/api.md, never 500:
deep JSON, NUL characters, races on unique keys; every answer carries a CSP."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from content.models import ContentAsset, ContentMapping
from segmentation.models import Segment
from tests.governance.support import active_segment, asset

NEW_ASSET = {"title": "Guide", "audience": "hcp", "intent": "promotional", "channels": ["email"]}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/segments/preview/"])
def test_json_nested_5000_levels_answers_400(client_for, url):
    body = "[" * 5000 + "]" * 5000
    client = APIClient() if "auth" in url else client_for("brand")
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_json_nul_escape_answers_400(client_for):
    response = client_for("brand").post(
        "/api/v1/segments/",
        '{"key": "a\\u0000b", "name": "x", "purpose": "promotional"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["errors"][0]["message"]
    assert not Segment.objects.exists()


@pytest.mark.django_db
def test_nul_in_a_filter_answers_400(client_for):
    response = client_for("brand").get("/api/v1/customers/?specialty=card%00iology")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "NUL characters are not accepted"


@pytest.mark.django_db
def test_nul_in_a_login_form_answers_400(client):
    response = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_every_answer_has_a_content_security_policy(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def _concurrently(n: int, work) -> list:
    if connections["default"].vendor != "postgresql":
        pytest.skip("races need PostgreSQL (SQLite's in-memory test database serialises threads)")
    results: list = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(work(i))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_code_asset_creates_make_one_asset(make_user):
    compliance = make_user("compliance")

    def create(i: int) -> int:
        client = APIClient()
        client.force_authenticate(compliance)
        code = "US-RACE-1" if i % 2 else "us-race-1"
        return client.post(
            "/api/v1/assets/", {**NEW_ASSET, "code": code}, format="json"
        ).status_code

    codes = _concurrently(12, create)
    assert sorted(set(codes)) in ([201, 400], [201, 400, 409], [201, 409])
    assert codes.count(201) == 1
    assert ContentAsset.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_segment_creates_make_one_segment(make_user):
    brand = make_user("brand")
    body = {
        "key": "race-seg",
        "name": "Race",
        "purpose": "promotional",
        "entry_rule": {"field": "decile", "op": "gte", "value": 8},
    }

    def create(i: int) -> int:
        client = APIClient()
        client.force_authenticate(brand)
        return client.post("/api/v1/segments/", body, format="json").status_code

    codes = _concurrently(12, create)
    assert codes.count(201) == 1 and all(c in (201, 400, 409) for c in codes)
    assert Segment.objects.filter(key="race-seg").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_mapping_proposals_make_one_mapping(make_user):
    active_segment(make_user, "cardio")
    asset("US-CARD-0042")
    brand = make_user("brand")

    def propose(i: int) -> int:
        client = APIClient()
        client.force_authenticate(brand)
        body = {"asset": "US-CARD-0042", "segment": "cardio", "rationale": "fits"}
        return client.post("/api/v1/mappings/", body, format="json").status_code

    codes = _concurrently(8, propose)
    assert codes.count(201) == 1 and all(c in (201, 400, 409) for c in codes), codes
    assert ContentMapping.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule",
    [
        "[" * 5000 + "]" * 5000,
        '{"field": "specialty", "op": "eq", "value": "card\\u0000iology"}',
    ],
)
@pytest.mark.parametrize("url", ["/segments/preview/", "/segments/new/"])
def test_hostile_rule_json_in_page_forms_is_refused_not_500(make_user, rule, url):
    client = Client()
    client.force_login(make_user("brand"))
    response = client.post(
        url,
        {"key": "x1", "name": "X", "purpose": "promotional", "entry_rule": rule},
    )
    assert response.status_code in (200, 400), response.status_code
    assert not Segment.objects.exists()


@pytest.mark.django_db
def test_oversized_json_body_answers_400_with_the_error_shape(client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"entry_rule": {"all": []}, "pad": "' + "x" * 5000 + '"}'
    response = client_for("brand").post(
        "/api/v1/segments/preview/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "larger than 1000 bytes" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_too_many_form_fields_answer_400_with_the_error_shape(client_for, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{i}": "1" for i in range(10)}
    response = client_for("brand").post("/api/v1/imports/", fields, format="multipart")
    assert response.status_code == 400
    assert "more than 5 fields" in response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_an_api_path_matching_no_endpoint_answers_404_with_the_error_shape(client_for):
    response = client_for("compliance").post("/api/v1/mappings/abc/decision/", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"path": "", "message": "no endpoint at /api/v1/mappings/abc/decision/"}]
    }


@pytest.mark.django_db
def test_a_page_matching_no_route_keeps_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
