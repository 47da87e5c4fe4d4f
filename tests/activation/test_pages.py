"""Activation pages: the publications panel with its chart, destinations, the delivery log."""

from __future__ import annotations

import pytest
from django.test import Client

from activation import services
from activation.charts import lift_chart, weekly_chart
from activation.models import Destination, Publication
from activation.services import deliver_publication, sync_publication
from tests.factories.activation import DestinationFactory

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_client(make_user):
    def _client(*roles):
        client = Client()
        client.force_login(make_user(*roles))
        return client

    return _client


@pytest.fixture
def publication(make_user):
    brand = make_user("brand")
    version = active_version(brand, customers=cardiologists(3))
    approved_mapping(version, brand)
    destination = DestinationFactory(key="esp", name="Email <platform>", channel="email")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key, holdout_percent=10
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    return publication


def test_segment_page_loads_the_panel_with_htmx(publication, page_client):
    html = page_client("brand").get("/segments/cardio/").content.decode()
    assert 'hx-get="/segments/cardio/publications-panel/"' in html


def test_panel_shows_publications_escaped_with_actions(publication, page_client):
    response = page_client("brand").get("/segments/cardio/publications-panel/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Email &lt;platform&gt;" in html and "Email <platform>" not in html
    assert "Sync now" in html and "Pause" in html
    assert "Measurement" in html


def test_chart_geometry_places_the_interval_around_the_estimate():

    measurement = {
        "weekly": [
            {"week": 0, "sent_channel": 1.0, "holdout_channel": 0.5},
            {"week": 1, "sent_channel": 0.8, "holdout_channel": 0.4},
        ],
        "lift": {
            "channel": {"estimate": 0.45, "low": 0.1, "high": 0.8},
            "all": {"estimate": 0.2, "low": -0.1, "high": 0.5},
        },
    }
    chart = weekly_chart(measurement)
    assert len(chart["sent"].split()) == 2
    rows = lift_chart(measurement)
    assert rows[0]["x_low"] < rows[0]["x_est"] < rows[0]["x_high"]
    assert rows[1]["x_low"] < rows[1]["x_zero"] < rows[1]["x_high"]


def test_field_lead_cannot_open_the_panel(publication, page_client):
    assert page_client("field_lead").get("/segments/cardio/publications-panel/").status_code == 403


def test_pause_from_the_panel(publication, page_client):
    response = page_client("compliance").post(
        f"/publications/{publication.pk}/pause/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert Publication.objects.get(pk=publication.pk).state == "paused"
    assert "Resume" not in response.content.decode()  # compliance may not resume


def test_access_cannot_pause_from_the_panel(publication, page_client):
    response = page_client("access").post(
        f"/publications/{publication.pk}/pause/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert Publication.objects.get(pk=publication.pk).state == "live"


def test_destinations_page_is_for_admins(page_client):
    assert page_client("admin").get("/destinations/").status_code == 200
    assert page_client("brand").get("/destinations/").status_code == 403


def test_admin_adds_a_destination_from_the_page(page_client):
    response = page_client("admin").post(
        "/destinations/",
        {"key": "drop", "channel": "rep_visit", "kind": "file", "directory": "crm"},
    )
    assert response.status_code == 302
    assert Destination.objects.get(key="drop").kind == "file"


def test_destination_form_shows_the_rule_it_broke(page_client):
    response = page_client("admin").post(
        "/destinations/", {"key": "x", "channel": "email", "kind": "webhook", "url": "ftp://a"}
    )
    assert response.status_code == 400
    assert "http:// or https://" in response.content.decode()


def test_delivery_log_lists_failures_with_next_retry(publication, page_client):

    deliver_publication(publication_id=publication.pk)  # 127.0.0.1:9 refuses
    html = page_client("brand").get("/deliveries/?failed=1").content.decode()
    assert "connection failed" in html
    assert "UTC" in html
    assert page_client("field_lead").get("/deliveries/").status_code == 403
