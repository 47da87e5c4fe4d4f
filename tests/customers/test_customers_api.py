"""GET /api/v1/customers/ with filters, pagination and roles."""

import pytest

from tests.factories import CustomerAttributeFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_list_is_paginated(client_for):
    CustomerFactory.create_batch(3)
    body = client_for("brand").get("/api/v1/customers/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    assert body["previous"] is None


def test_filters_by_npi_territory_and_specialty(client_for):
    wanted = CustomerFactory(specialty="oncology", territory=None)
    CustomerFactory(specialty="cardiology")
    client = client_for("medical")
    assert [
        c["npi"] for c in client.get(f"/api/v1/customers/?npi={wanted.npi}").json()["results"]
    ] == [wanted.npi]
    assert [
        c["npi"] for c in client.get("/api/v1/customers/?specialty=oncology").json()["results"]
    ] == [wanted.npi]


def test_filters_by_territory(client_for, make_user):
    from accounts.models import Territory

    north = Territory.objects.create(code="N1")
    wanted = CustomerFactory(territory=north)
    CustomerFactory()
    body = client_for("access").get("/api/v1/customers/?territory=N1").json()
    assert [c["npi"] for c in body["results"]] == [wanted.npi]
    assert body["results"][0]["territory"] == "N1"


def test_attributes_are_listed(client_for):
    attribute = CustomerAttributeFactory(key="stage", value="early")
    body = client_for("brand").get(f"/api/v1/customers/?npi={attribute.customer.npi}").json()
    assert body["results"][0]["attributes"] == {"stage": "early"}


def test_field_lead_may_not_list_customers(client_for):
    assert client_for("field_lead").get("/api/v1/customers/").status_code == 403


def test_unknown_specialty_filter_answers_400(client_for):
    response = client_for("brand").get("/api/v1/customers/?specialty=astrology")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "specialty"
