"""Reads on the streaming replica (docs/scaling.md, core/replica.py).

The router and the read-your-writes pin are checked everywhere; the tests
marked ``replica`` read through the real hot standby that scripts/services.sh
starts (DATABASE_REPLICA_URL), with committed rows (transactional tests).
"""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from core import replica
from customers.models import Customer
from tests.factories import CustomerFactory, TerritoryFactory
from tests.replica import wait_replayed


def test_writes_and_identity_always_use_the_primary():
    router = replica.ReplicaRouter()
    with replica.reading_replica():
        assert router.db_for_write(Customer) == "default"
        assert router.db_for_read(User) == "default"
    assert router.allow_migrate("replica", "customers") is False
    assert router.allow_migrate("default", "customers") is True


def test_outside_an_eligible_request_reads_use_the_primary():
    assert replica.read_alias() == "default"


def test_pin_cookie_is_signed_and_expires(rf, settings):
    settings.REPLICA_PIN_SECONDS = 10
    request = rf.get("/")
    request.COOKIES[replica.PIN_COOKIE] = replica.pin_value()
    assert replica.pinned(request)
    request.COOKIES[replica.PIN_COOKIE] = "forged"
    assert not replica.pinned(request)


def test_eligible_views_name_real_routes(settings):
    from django.urls import get_resolver

    names = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif p.name:
                names.add(f"{prefix}{p.name}")

    walk(get_resolver().url_patterns)
    assert settings.REPLICA_READ_VIEWS <= names, settings.REPLICA_READ_VIEWS - names


# --- the real standby (tests/replica.py) ------------------------------------------------


@pytest.fixture
def field_lead_with_customer(make_user):
    territory = TerritoryFactory(code="NE-01")
    customer = CustomerFactory(territory=territory)
    return make_user("field_lead", territories=["NE-01"]), customer


@pytest.fixture
def lead_client(client, standby, field_lead_with_customer):
    """A field lead signed in, once the standby has replayed their territory's customer."""
    lead, customer = field_lead_with_customer
    wait_replayed(standby, customer.npi)
    client.force_login(lead)
    client.lead = lead
    return client


def territory_page_on(client, alias):
    with CaptureQueriesContext(alias) as on_alias:
        response = client.get(reverse("field:territory_detail", args=["NE-01"]))
    assert response.status_code == 200
    return on_alias.captured_queries


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_standby_is_read_only_and_replays_the_primary(standby, field_lead_with_customer):
    _, customer = field_lead_with_customer
    wait_replayed(standby, customer.npi)
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
    assert replica.replica_lag() is not None


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_field_list_reads_the_replica(lead_client, standby):
    assert len(territory_page_on(lead_client, standby)) > 0


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_preview_reads_the_replica(client, standby, make_user):
    customer = CustomerFactory(specialty="cardiology")
    wait_replayed(standby, customer.npi)
    brand = make_user("brand")
    client.force_login(brand)
    with CaptureQueriesContext(standby) as on_replica:
        response = client.post(
            reverse("api-segment-preview"),
            {"entry_rule": {"field": "specialty", "op": "eq", "value": "cardiology"}},
            content_type="application/json",
        )
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    assert len(on_replica.captured_queries) > 0


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_after_a_write_the_writer_reads_the_primary(lead_client, standby):
    # Any successful write outside the previews pins this browser to the primary.
    lead_client.post(reverse("accounts:logout"))
    assert replica.PIN_COOKIE in lead_client.cookies
    lead_client.force_login(lead_client.lead)
    assert territory_page_on(lead_client, standby) == []


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_lagging_replica_sends_pages_to_the_primary(lead_client, settings, standby):
    settings.REPLICA_MAX_LAG_SECONDS = -1  # any lag, even 0 s, is too much
    # Only the lag probe itself reaches the replica.
    assert all("pg_last_wal" in q["sql"] for q in territory_page_on(lead_client, standby))
    health = lead_client.get("/health/?format=json")
    assert health.status_code == 500
    assert "replica is" in health.content.decode()


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_health_shows_the_replica_lag(client, standby):
    response = client.get("/health/?format=json")
    assert response.status_code == 200, response.content
    assert "Replica lag" in response.content.decode()
