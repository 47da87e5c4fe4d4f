"""The activation API: shapes, every 400 of "Bad input", and who may do what."""

from __future__ import annotations

import pytest

from activation import services
from activation.models import Destination, Publication
from audit.models import AuditEvent
from content.models import ContentMapping
from tests.factories.activation import DestinationFactory
from tests.segmentation.segments_support import make_segment

from .support import CARDIOLOGY, active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db

WEBHOOK = {
    "key": "crm",
    "name": "Veeva CRM",
    "channel": "rep_visit",
    "kind": "webhook",
    "url": "https://crm.example.internal/hooks/segments",
    "secret": "never-shown-anywhere",
}


def messages(response) -> str:
    return " ".join(e["message"] for e in response.json()["errors"])


def test_admin_creates_a_webhook_destination_without_echoing_the_secret(client_for):
    admin = client_for("admin")
    response = admin.post("/api/v1/destinations/", WEBHOOK, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["key"] == "crm" and body["has_secret"] is True
    assert "secret" not in body
    assert "never-shown-anywhere" not in admin.get("/api/v1/destinations/crm/").content.decode()
    event = AuditEvent.objects.get(action="destination.created")
    assert "never-shown-anywhere" not in str(event.after)


def test_changing_the_secret_is_audited_as_a_fact_only(client_for):
    admin = client_for("admin")
    admin.post("/api/v1/destinations/", WEBHOOK, format="json")
    response = admin.patch("/api/v1/destinations/crm/", {"secret": "rotated-2"}, format="json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="destination.updated")
    assert event.after["secret_changed"] is True
    assert "rotated-2" not in str(event.after) + str(event.before)
    assert Destination.objects.get(key="crm").secret == "rotated-2"


def test_file_destination_inside_the_root(client_for, settings):
    admin = client_for("admin")
    data = {"key": "drop", "channel": "rep_visit", "kind": "file", "directory": "veeva/daily"}
    response = admin.post("/api/v1/destinations/", data, format="json")
    assert response.status_code == 201
    assert response.json()["directory"] == str(settings.ACTIVATION_FILE_ROOT / "veeva/daily")


@pytest.mark.parametrize(
    "change, path, words",
    [
        ({"channel": "telepathy"}, "channel", "unknown channel"),
        ({"url": "ftp://crm.example/x"}, "url", "http:// or https://"),
        ({"url": "file:///etc/passwd"}, "url", "http:// or https://"),
        ({"url": "https://user:pw@crm.example/"}, "url", "credentials"),
        ({"secret": ""}, "secret", "secret"),
        ({"kind": "carrier_pigeon"}, "kind", "webhook"),
        ({"key": "Bad Key!"}, "key", "lowercase"),
    ],
)
def test_bad_webhook_destinations_answer_400_naming_the_rule(client_for, change, path, words):
    response = client_for("admin").post("/api/v1/destinations/", {**WEBHOOK, **change}, "json")
    assert response.status_code == 400
    assert path in [e["path"] for e in response.json()["errors"]]
    assert words in messages(response)
    assert not Destination.objects.exists()


@pytest.mark.parametrize("directory", ["/etc", "../outside", "/tmp", ""])
def test_directory_outside_the_root_answers_400(client_for, directory):
    data = {"key": "drop", "channel": "email", "kind": "file", "directory": directory}
    response = client_for("admin").post("/api/v1/destinations/", data, format="json")
    assert response.status_code == 400
    assert "inside the configured root" in messages(response)


def test_duplicate_key_answers_400(client_for):
    admin = client_for("admin")
    admin.post("/api/v1/destinations/", WEBHOOK, format="json")
    response = admin.post("/api/v1/destinations/", WEBHOOK, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["brand", "access", "medical", "compliance", "field_lead"])
def test_only_admins_create_destinations(client_for, role):
    response = client_for(role).post("/api/v1/destinations/", WEBHOOK, format="json")
    assert response.status_code == 403
    assert not Destination.objects.exists()


def test_field_leads_see_no_destinations(client_for):
    assert client_for("field_lead").get("/api/v1/destinations/").status_code == 403


@pytest.fixture
def published_setup(make_user):
    brand = make_user("brand")
    version = active_version(brand, customers=cardiologists(2))
    approved_mapping(version, brand)
    DestinationFactory(key="esp", channel="email")
    return version


def test_brand_publishes_and_reads_the_publication(client_for, published_setup):
    brand = client_for("brand")
    response = brand.post(
        "/api/v1/segments/cardio/publications/",
        {"destination": "esp", "holdout_percent": 10},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("segment", "destination", "channel", "holdout_percent")} == {
        "segment": "cardio",
        "destination": "esp",
        "channel": "email",
        "holdout_percent": 10,
    }
    assert body["state"] == "live" and body["last_sync"] == 0
    assert body["created_by"] == brand.user.username
    assert brand.get(f"/api/v1/publications/{body['id']}/").json()["id"] == body["id"]
    assert brand.get("/api/v1/publications/").json()["count"] == 1


def test_holdout_defaults_to_zero(client_for, published_setup):
    response = client_for("brand").post(
        "/api/v1/segments/cardio/publications/", {"destination": "esp"}, format="json"
    )
    assert response.json()["holdout_percent"] == 0


@pytest.mark.parametrize("holdout", [-1, 51, 100, "ten", 12.5, True])
def test_holdout_outside_0_to_50_answers_400(client_for, published_setup, holdout):
    response = client_for("brand").post(
        "/api/v1/segments/cardio/publications/",
        {"destination": "esp", "holdout_percent": holdout},
        format="json",
    )
    assert response.status_code == 400
    assert "holdout_percent" in messages(response)
    assert not Publication.objects.exists()


def test_publishing_a_draft_answers_400(client_for, make_user):
    make_segment(make_user("brand"), "drafty", CARDIOLOGY)
    DestinationFactory(key="esp")
    response = client_for("brand").post(
        "/api/v1/segments/drafty/publications/", {"destination": "esp"}, format="json"
    )
    assert response.status_code == 400
    assert "no active version" in messages(response)


def test_publishing_without_approved_content_for_the_channel_answers_400(
    client_for, published_setup
):
    DestinationFactory(key="calls", channel="phone")
    response = client_for("brand").post(
        "/api/v1/segments/cardio/publications/", {"destination": "calls"}, format="json"
    )
    assert response.status_code == 400
    assert "no approved content mapping" in messages(response)
    assert "'phone'" in messages(response)


def test_unknown_destination_answers_400(client_for, published_setup):
    response = client_for("brand").post(
        "/api/v1/segments/cardio/publications/", {"destination": "nope"}, format="json"
    )
    assert response.status_code == 400


def test_non_object_body_answers_400(client_for, published_setup):
    response = client_for("brand").post(
        "/api/v1/segments/cardio/publications/", ["esp"], format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["admin", "compliance", "access", "medical", "field_lead"])
def test_only_brand_publishes(client_for, published_setup, role):
    response = client_for(role).post(
        "/api/v1/segments/cardio/publications/", {"destination": "esp"}, format="json"
    )
    assert response.status_code == 403


@pytest.fixture
def publication(published_setup, make_user):

    return services.create_publication(
        user=make_user("brand"), segment=published_setup.segment, destination_key="esp"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/publications/",
        "/api/v1/publications/{id}/",
        "/api/v1/publications/{id}/syncs/",
        "/api/v1/publications/{id}/measurement/",
    ],
)
def test_field_leads_see_nothing(client_for, publication, path):
    response = client_for("field_lead").get(path.format(id=publication.pk))
    assert response.status_code == 403


@pytest.mark.parametrize("role, status", [("compliance", 200), ("admin", 200), ("access", 403)])
def test_compliance_and_admin_may_pause(client_for, publication, role, status):
    response = client_for(role).post(f"/api/v1/publications/{publication.pk}/pause/")
    assert response.status_code == status


@pytest.mark.parametrize("role", ["compliance", "admin", "medical"])
def test_only_brand_syncs_and_resumes(client_for, publication, role):
    client = client_for(role)
    assert client.post(f"/api/v1/publications/{publication.pk}/sync/").status_code == 403
    publication.state = "paused"
    publication.save()
    assert client.post(f"/api/v1/publications/{publication.pk}/resume/").status_code == 403


def test_a_pause_reason_that_is_not_text_answers_400(client_for, publication):
    url = f"/api/v1/publications/{publication.pk}/pause/"
    response = client_for("compliance").post(url, {"reason": ["x"]}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "reason"
    publication.refresh_from_db()
    assert publication.state == "live"


def test_brand_pauses_and_resumes(client_for, publication):
    brand = client_for("brand")
    assert brand.post(f"/api/v1/publications/{publication.pk}/pause/").json()["state"] == "paused"
    response = brand.post(f"/api/v1/publications/{publication.pk}/sync/")
    assert response.status_code == 400 and "paused" in messages(response)
    assert brand.post(f"/api/v1/publications/{publication.pk}/resume/").json()["state"] == "live"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"publication.created", "publication.paused", "publication.resumed"} <= actions


def test_resume_is_refused_while_the_gate_is_closed(client_for, publication):

    publication.state = "paused"
    publication.save()
    ContentMapping.objects.update(state="revoked")
    response = client_for("brand").post(f"/api/v1/publications/{publication.pk}/resume/")
    assert response.status_code == 400
    assert "no approved content mapping" in messages(response)


def test_syncs_after_n_pull_the_messages(client_for, publication):
    brand = client_for("brand")
    brand.post(f"/api/v1/publications/{publication.pk}/sync/")
    page = brand.get(f"/api/v1/publications/{publication.pk}/syncs/?after=0").json()
    assert page["count"] == 1
    (row,) = page["results"]
    assert row["sync"] == 1 and row["state"] in ("failed", "delivered", "pending")
    assert row["message"]["sync"] == 1 and len(row["message"]["entered"]) == 2
    later = brand.get(f"/api/v1/publications/{publication.pk}/syncs/?after=1").json()
    assert later["count"] == 0


@pytest.mark.parametrize("after", ["x", "-1"])
def test_syncs_after_must_be_a_whole_number(client_for, publication, after):
    response = client_for("brand").get(
        f"/api/v1/publications/{publication.pk}/syncs/?after={after}"
    )
    assert response.status_code == 400


def test_unknown_publication_is_404(client_for):
    assert client_for("brand").get("/api/v1/publications/999999/").status_code == 404
    assert client_for("brand").get("/api/v1/publications/abc/").status_code == 404
