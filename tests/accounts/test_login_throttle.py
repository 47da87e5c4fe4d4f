"""The sign-in page is throttled per address like the token endpoint (one count for both,
``THROTTLE_AUTH``), answering a plain 429; docs/api.md and the settings name the same rates
(docs/governance.md, "Integrity and access controls")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

DOCS = Path(settings.BASE_DIR) / "docs"


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})


def _login(client, password="wrong", address="203.0.113.7"):
    return client.post(
        "/accounts/login/", {"username": "jdoe", "password": password}, REMOTE_ADDR=address
    )


def test_the_login_page_answers_429_past_the_rate_for_one_address(make_user, three_a_minute):
    make_user("brand", username="jdoe")
    client = Client()
    assert [_login(client).status_code for _ in range(3)] == [200, 200, 200]
    response = _login(client, password=DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")
    assert "Too many sign-in attempts" in response.content.decode()
    assert int(response["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session
    # Another address is not slowed, and the page itself still shows.
    assert _login(Client(), password=DEFAULT_PASSWORD, address="198.51.100.9").status_code == 302
    assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.7").status_code == 200


def test_the_login_page_and_the_token_endpoint_share_one_count(make_user, three_a_minute):
    make_user("brand", username="jdoe")
    api = APIClient()
    for _ in range(2):
        api.post(
            "/api/v1/auth/token/",
            {"username": "jdoe", "password": "wrong"},
            format="json",
            REMOTE_ADDR="203.0.113.7",
        )
    assert _login(Client()).status_code == 200
    assert _login(Client()).status_code == 429


def test_docs_and_settings_name_the_same_throttle_rates():
    from config import settings as configured

    rates = configured.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    api = (DOCS / "api.md").read_text()
    governance = (DOCS / "governance.md").read_text()
    for scope, rate in rates.items():
        count, per = rate.split("/")
        unit = {"s": "second", "sec": "second", "m": "minute", "min": "minute", "h": "hour"}[per]
        phrase = re.compile(rf"\b{count}\s+(?:\w+\s+)*?(?:a|per)\s+{unit}")
        assert phrase.search(api), f"docs/api.md must say {rate} for {scope}"
        assert phrase.search(governance), f"docs/governance.md must say {rate} for {scope}"
    for doc in (api, governance):
        assert not re.search(r"more than 20 token requests", doc)
