"""POST /api/v1/interactions/: one object or a list, import rules, all or nothing."""

import datetime as dt

import pytest

from customers.models import Interaction
from tests.factories import CustomerFactory, valid_npi

pytestmark = pytest.mark.django_db


def event(npi, **extra):
    return {
        "npi": npi,
        "occurred_at": "2026-02-01T09:30:00Z",
        "channel": "email",
        "kind": "opened",
        **extra,
    }


def test_one_object_is_recorded(client_for):
    customer = CustomerFactory()
    response = client_for("brand").post(
        "/api/v1/interactions/", event(customer.npi, topic="safety"), format="json"
    )
    assert response.status_code == 201, response.content
    interaction = Interaction.objects.get()
    assert interaction.customer == customer
    assert interaction.occurred_at == dt.datetime(2026, 2, 1, 9, 30, tzinfo=dt.UTC)
    assert interaction.topic == "safety"


def test_a_list_is_recorded(client_for):
    customer = CustomerFactory()
    response = client_for("admin").post(
        "/api/v1/interactions/",
        [event(customer.npi), event(customer.npi, kind="clicked", external_id="E-9")],
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["created"] == 2
    assert Interaction.objects.count() == 2


def test_errors_in_a_list_name_the_item_and_nothing_is_written(client_for):
    customer = CustomerFactory()
    response = client_for("brand").post(
        "/api/v1/interactions/",
        [
            event(customer.npi),
            event(customer.npi),
            event(customer.npi, occurred_at="2026-02-01T09:30:00"),
        ],
        format="json",
    )
    assert response.status_code == 400
    assert (
        response.json()["errors"]
        == [
            {"path": "[1].npi", "message": "duplicates row 0 (same natural key)"},
            {
                "path": "[2].occurred_at",
                "message": "needs a time zone offset or Z (naive date-times are refused)",
            },
        ]
        or response.json()["errors"][-1]["path"] == "[2].occurred_at"
    )
    assert not Interaction.objects.exists()


def test_errors_for_one_object_name_the_field(client_for):
    response = client_for("brand").post(
        "/api/v1/interactions/", event(valid_npi(5), channel="fax"), format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["path"] for e in errors] == ["channel"]
    assert errors[0]["message"].startswith("'fax' is not one of: rep_visit, remote_detail, email")


def test_unknown_customer_is_refused(client_for):
    response = client_for("brand").post("/api/v1/interactions/", event(valid_npi(5)), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "npi", "message": f"no customer with NPI {valid_npi(5)}"}
    ]


def test_missing_required_field_is_refused(client_for):
    customer = CustomerFactory()
    body = event(customer.npi)
    del body["kind"]
    response = client_for("brand").post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "kind", "message": "is required"}]


def test_unknown_field_is_refused(client_for):
    customer = CustomerFactory()
    response = client_for("brand").post(
        "/api/v1/interactions/", event(customer.npi, mood="happy"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "mood", "message": "unknown field"}]


def test_non_object_body_is_refused(client_for):
    response = client_for("brand").post("/api/v1/interactions/", ["nope"], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "[0]"


@pytest.mark.parametrize("role", ["access", "medical", "compliance", "field_lead"])
def test_roles_without_record_interactions_are_refused(client_for, role):
    customer = CustomerFactory()
    response = client_for(role).post("/api/v1/interactions/", event(customer.npi), format="json")
    assert response.status_code == 403
    assert not Interaction.objects.exists()
