"""The OpenAPI schema generates and the docs page renders."""

import pytest

pytestmark = pytest.mark.django_db


def test_schema_generates(client_for):
    response = client_for("brand").get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/imports/" in response.content


def test_docs_render(client_for):
    assert client_for("brand").get("/api/docs/").status_code == 200
