"""Out-of-range dates anywhere in the API answer 400 naming the field, never a 500
(docs/api.md, "Dates"): 0001-01-01 and 9999-12-31, and a moment with no UTC equivalent."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory, UserFactory
from tests.segmentation.segments_support import activate, make_segment

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z"]
HIGH = {"field": "decile", "op": "gte", "value": 8}


def _paths(response) -> list[str]:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    return [e["path"] for e in response.json()["errors"]]


@pytest.mark.parametrize("as_of", OUT_OF_RANGE)
def test_discovery_describe(client_for, as_of):
    npis = [CustomerFactory().npi for _ in range(3)]
    response = client_for("brand").post(
        "/api/v1/discovery/describe/", {"npis": npis, "as_of": as_of}, format="json"
    )
    assert _paths(response) == ["as_of"]


@pytest.mark.parametrize("as_of", OUT_OF_RANGE)
def test_discovery_personas(client_for, as_of):
    response = client_for("brand").post(
        "/api/v1/discovery/personas/", {"k": 3, "as_of": as_of}, format="json"
    )
    assert _paths(response) == ["as_of"]


@pytest.mark.parametrize("as_of", OUT_OF_RANGE)
def test_segment_preview(client_for, as_of):
    response = client_for("brand").post(
        "/api/v1/segments/preview/", {"entry_rule": HIGH, "as_of": as_of}, format="json"
    )
    assert _paths(response) == ["as_of"]


@pytest.mark.parametrize("as_of", OUT_OF_RANGE)
def test_segment_recompute_and_backtest(client_for, as_of):
    activate(make_segment(UserFactory(roles=["brand"]), "dates", HIGH))
    client = client_for("brand")
    for action in ("recompute", "backtest"):
        response = client.post(f"/api/v1/segments/dates/{action}/", {"as_of": as_of}, format="json")
        assert _paths(response) == ["as_of"]


@pytest.mark.parametrize("since", OUT_OF_RANGE)
def test_segment_history_since(client_for, since):
    activate(make_segment(UserFactory(roles=["brand"]), "dates", HIGH))
    response = client_for("brand").get("/api/v1/segments/dates/history/", {"since": since})
    assert _paths(response) == ["since"]


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_audit_since_and_until(client_for, name, value):
    response = client_for("admin").get("/api/v1/audit/", {name: value})
    assert _paths(response) == [name]


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z"])
def test_an_interaction_dated_out_of_range(client_for, occurred_at):
    customer = CustomerFactory()
    body = {"npi": customer.npi, "occurred_at": occurred_at, "channel": "email", "kind": "sent"}
    response = client_for("brand").post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "occurred_at" in response.content.decode()
