"""Activation pages: the publications panel with its chart, destinations, the delivery log."""

from __future__ import annotations

import pytest
from django.test import Client

from activation import services
from activation.charts import lift_chart, weekly_chart
from activation.models import Destination, Publication
from activation.services import deliver_publication
from tests.factories.activation import DestinationFactory

from .support import active_version, approved_mapping, cardiologists, published_to_email

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
    return published_to_email(make_user("brand"), customers=3, holdout=10, name="Email <platform>")


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
    rows = lift_chart(measurement)["rows"]
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


def test_panel_shows_verdicts_and_charts_with_axes_units_and_zero(make_user, page_client):
    from .test_measurement_rx import entry_date, plant_rx, publish

    publication, sent, hold = publish(make_user("brand"), 70, since=entry_date(3))
    plant_rx(sent, hold)
    html = page_client("brand").get("/segments/cardio/publications-panel/").content.decode()
    assert "sent customers had more CARDIOZEN TRx than held-out ones" in html
    assert "nothing to measure yet" in html  # no interactions since entry
    assert 'aria-label="Prescribing lift with 95% confidence interval"' in html
    assert "months since the entry month (0)" in html
    assert "CARDIOZEN TRx per customer per month" in html
    assert "the dashed line marks 0" in html
    assert "What it would take" in html and "smallest lift this measurement can detect" in html


def test_line_chart_starts_at_zero_and_labels_its_axes():
    from activation.charts import rx_chart

    chart = rx_chart(
        {
            "rx": {
                "products": ["CARDIOZEN"],
                "months": [
                    {"offset": -1, "sent_trx": 5.0, "holdout_trx": 5.0},
                    {"offset": 0, "sent_trx": 6.0, "holdout_trx": 5.0},
                    {"offset": 1, "sent_trx": 8.0, "holdout_trx": None},
                ],
            }
        }
    )
    assert chart["y_ticks"][0]["label"] == "0" and chart["y_ticks"][0]["y"] == chart["bottom"]
    assert chart["y_label"] == "CARDIOZEN TRx per customer per month"
    assert chart["x_label"] == "months since the entry month (0)"
    assert chart["marker"]["label"] == "entry"
    assert len(chart["holdout"].split()) == 2  # the month without data is left out


def test_interval_chart_puts_zero_on_its_axis_when_the_interval_is_far_from_it():
    chart = lift_chart({"lift": {"channel": {"estimate": 2.0, "low": 1.5, "high": 2.5}}})
    labels = [t["label"] for t in chart["ticks"]]
    assert "0" in labels
    assert chart["zero_x"] < chart["rows"][0]["x_low"]
    assert "interactions per customer per week" in chart["unit"]


def test_publish_form_shows_the_mde_for_the_chosen_holdout(make_user, page_client):
    import datetime as dt

    from django.utils import timezone

    from activation.estimates import minimum_detectable_effect
    from customers.models import Interaction

    brand = make_user("brand")
    people = cardiologists(100)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    DestinationFactory(key="crm", name="CRM", channel="rep_visit")
    now = timezone.now()
    Interaction.objects.bulk_create(
        Interaction(
            customer=c,
            channel="rep_visit",
            kind="visited",
            occurred_at=now - dt.timedelta(days=3 + k),
        )  # fmt: skip
        for i, c in enumerate(people)
        for k in range(i % 4)
    )
    client = page_client("brand")
    panel = client.get("/segments/cardio/publications-panel/").content.decode()
    assert 'id="holdout-power"' in panel and "/segments/cardio/holdout-power/" in panel
    html = client.get(
        "/segments/cardio/holdout-power/?destination=crm&holdout_percent=20",
        HTTP_HX_REQUEST="true",
    ).content.decode()
    # By hand: weekly rates i % 4 / 12 over 100 members; 20 held out and 80 sent.
    rates = [(i % 4) / 12 for i in range(100)]
    mean = sum(rates) / 100
    sd = (sum((r - mean) ** 2 for r in rates) / 99) ** 0.5
    mde = minimum_detectable_effect(sent=80, holdout=20, sd=sd)
    assert "With a 20% holdout of today&#x27;s 100 members (about 80 sent and 20 held out)" in html
    assert "a side has fewer than 30 customers" in html  # 20 held out
    row = services.holdout_power(segment=version.segment, channel="rep_visit", holdout_percent=40)
    chosen = row["chosen"]
    assert chosen["sent"] == 60 and chosen["holdout"] == 40 and chosen["enough"]
    assert chosen["mde_channel"] == pytest.approx(
        minimum_detectable_effect(sent=60, holdout=40, sd=sd)
    )
    assert mde > chosen["mde_channel"]  # a larger holdout detects a smaller lift
    assert "rep visit interactions per customer per week" in html


def test_publish_form_mde_needs_the_brand_role(make_user, page_client, publication):
    assert page_client("field_lead").get("/segments/cardio/holdout-power/").status_code == 403
    assert page_client("medical").get("/segments/cardio/holdout-power/").status_code == 403
