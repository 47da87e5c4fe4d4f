"""``?format=`` names one of an endpoint's formats (docs/api.md); another is a 400."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_export_format_answers_400_naming_it(client_for):
    response = client_for("compliance").get("/api/v1/audit/", {"format": "xml"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "format" and "csv" in error["message"]


def test_a_known_export_format_is_served(client_for):
    response = client_for("compliance").get("/api/v1/audit/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
