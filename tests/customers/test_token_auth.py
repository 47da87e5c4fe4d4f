"""POST /api/v1/auth/token/ exchanges a username and password for a token."""

import pytest

from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_valid_credentials_answer_a_token_that_authenticates(api_client, make_user):
    make_user("brand", username="jdoe")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "jdoe", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/customers/").status_code == 200


def test_wrong_password_answers_400_with_the_error_shape(api_client, make_user):
    make_user("brand", username="jdoe")
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "jdoe", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"][0]["message"]


def test_missing_fields_answer_400(api_client):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert {e["path"] for e in response.json()["errors"]} == {"username", "password"}


def test_inactive_user_gets_no_token(api_client, make_user):
    make_user("brand", username="gone", is_active=False)
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "gone", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 400


def test_request_without_token_is_unauthorized(api_client):
    assert api_client.get("/api/v1/customers/").status_code == 401
