"""Publications of account segments: accounts are sent (``account_id``), held out by the
same fixed rule, exited when they leave, written to files and measured on their
affiliated customers. Through the API, with real recomputes and real deliveries."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from activation import services
from activation.models import Publication, PublicationMember, Sync, SyncChange
from activation.services import in_holdout, sync_message, sync_publication
from content import services as content_services
from customers.models import Account
from segmentation import services as segments
from segmentation.models import SegmentVersion
from tests.factories import CustomerFactory
from tests.factories.activation import DestinationFactory
from tests.factories.customers import AccountFactory
from tests.segmentation.segments_support import account_member_ids, activate, make_segment

from .support import approved_mapping

pytestmark = pytest.mark.django_db

HOSPITALS = {"field": "account_type", "op": "eq", "value": "hospital"}
SECRET = "whsec-accounts"
AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def hospital_segment(brand, n: int, key: str = "hospitals"):
    """An active account segment of ``n`` hospitals (and a payer that is not one),
    recomputed by the engine."""
    for i in range(n):
        AccountFactory(account_id=f"H{i:04d}", account_type="hospital")
    AccountFactory(account_id="PAYER1", account_type="payer")
    version = activate(make_segment(brand, key, HOSPITALS, unit="account"))
    segments.recompute_version(version=version, as_of=AS_OF)
    approved_mapping(version, brand)
    return version


def held(publication) -> set[str]:
    """Replay every message: entered minus later exited, by account_id, checked as we go."""
    holds: set[str] = set()
    for sync in publication.syncs.order_by("number"):
        message = sync_message(sync)
        for row in message["entered"]:
            assert set(row) == {"account_id", "content"}
            assert row["account_id"] not in holds, f"{row['account_id']} entered twice"
            holds.add(row["account_id"])
        for row in message["exited"]:
            assert set(row) == {"account_id", "reason"}
            assert row["account_id"] in holds, f"{row['account_id']} exited without being held"
            holds.discard(row["account_id"])
    return holds


def test_an_account_segment_is_published_and_synced_through_the_api(brand, client_for, receiver):
    version = hospital_segment(brand, 130)
    destination = DestinationFactory(key="kam-crm", url=receiver.url, secret=SECRET)
    client = client_for("brand")
    response = client.post(
        "/api/v1/segments/hospitals/publications/",
        {"destination": destination.key, "holdout_percent": 20},
        format="json",
    )
    assert response.status_code == 201, response.content
    publication = Publication.objects.get(pk=response.json()["id"])

    answer = client.post(f"/api/v1/publications/{publication.pk}/sync/").json()
    assert answer["created"] is True and answer["delivery"]["delivered"] == [1]
    (request,) = receiver.requests
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"
    message = json.loads(request["body"])
    assert message["segment"] == "hospitals" and message["sync"] == 1
    sent = {row["account_id"] for row in message["entered"]}
    holdout = {a for a in account_member_ids(version) if in_holdout(publication.pk, a, 20)}
    assert 10 <= len(holdout) <= 50  # about a fifth of 130 accounts
    assert sent == account_member_ids(version) - holdout and "PAYER1" not in sent
    assert all(row["content"] == ["US-CARD-0042"] for row in message["entered"])
    states = dict(
        PublicationMember.objects.filter(publication=publication).values_list("account_id", "state")
    )
    assert {a for a, s in states.items() if s == "holdout"} == holdout

    # Sent accounts stop being hospitals: the next recompute exits them, by account_id.
    leaving = sorted(sent)[:3]
    Account.objects.filter(account_id__in=leaving).update(account_type="clinic")
    segments.recompute_version(version=version, as_of=AS_OF + dt.timedelta(days=1))
    answer = client.post(f"/api/v1/publications/{publication.pk}/sync/").json()
    assert answer["sync"] == 2 and answer["delivery"]["delivered"] == [2]
    second = receiver.accepted()[-1]
    assert second["entered"] == []
    assert second["exited"] == [{"account_id": a, "reason": "exit"} for a in leaving]
    assert held(publication) == account_member_ids(version) - holdout
    page = client.get(f"/api/v1/publications/{publication.pk}/syncs/?after=1").json()
    assert [row["message"]["exited"] for row in page["results"]] == [second["exited"]]
    # Nothing changed: no sync.
    assert client.post(f"/api/v1/publications/{publication.pk}/sync/").json()["created"] is False


def test_the_holdout_of_accounts_is_stable_across_versions(brand):
    version = hospital_segment(brand, 40)
    destination = DestinationFactory(channel="email")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key, holdout_percent=50
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    first = held(publication)
    # A new version with the same members replaces the active one: nobody moves.
    draft = segments.segment_update(user=brand, segment=version.segment, description="v2")
    SegmentVersion.objects.filter(pk=version.pk).update(state="superseded")
    activate(draft)
    segments.recompute_version(version=draft, as_of=AS_OF)
    sync_publication(publication_id=publication.pk, trigger="test")
    assert held(publication) == first
    assert first == {a for a in account_member_ids(draft) if not in_holdout(publication.pk, a, 50)}


def test_an_email_publication_of_accounts_suppresses_no_account(brand):
    version = hospital_segment(brand, 2)
    # Opt-outs are a customer's: an account whose customers opted out is still sent.
    CustomerFactory(account_id="H0000", email_opt_out=True)
    destination = DestinationFactory(channel="email")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    assert held(publication) == {"H0000", "H0001"}
    assert not PublicationMember.objects.filter(publication=publication, state="suppressed")


def test_a_file_destination_names_the_account_id_column(brand, settings):
    version = hospital_segment(brand, 2)
    approved_mapping(version, brand, code="=HYPERLINK(1)", channels=["rep_visit"])
    directory = Path(settings.ACTIVATION_FILE_ROOT) / "kam"
    destination = DestinationFactory(
        kind="file", url="", secret="", directory=str(directory), channel="rep_visit"
    )
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    assert services.deliver_publication(publication_id=publication.pk).delivered == [1]
    with open(directory / f"hospitals-{publication.pk}-000001.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["action", "account_id", "content", "reason"]
    assert [r[:2] for r in rows[1:]] == [["enter", "H0000"], ["enter", "H0001"]]
    assert rows[1][2] == "'=HYPERLINK(1)|US-CARD-0042"  # neutralised for spreadsheets


def test_revoked_content_exits_every_account_and_pauses(brand, django_capture_on_commit_callbacks):
    version = hospital_segment(brand, 3)
    destination = DestinationFactory(channel="rep_visit")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    asset = version.segment.content_mappings.get().asset
    with django_capture_on_commit_callbacks(execute=True):
        content_services.revoke_mappings_for_asset(asset=asset, actor=None, reason="withdrawn")
    publication.refresh_from_db()
    final = Sync.objects.get(publication=publication, number=2)
    exits = SyncChange.objects.filter(sync=final).values_list("account_id", "reason")
    assert dict(exits) == {a: "content_revoked" for a in ("H0000", "H0001", "H0002")}
    assert publication.state == "paused" and held(publication) == set()


def test_measurement_of_accounts_counts_their_active_affiliated_customers(brand, client_for):
    version = hospital_segment(brand, 80)
    for i in range(80):
        CustomerFactory(account_id=f"H{i:04d}")
        CustomerFactory(account_id=f"H{i:04d}", active=False)  # deactivated: not counted
    destination = DestinationFactory(channel="email")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key, holdout_percent=50
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    start = timezone.now() - dt.timedelta(weeks=3)
    PublicationMember.objects.filter(publication=publication).update(since=start)
    answer = client_for("brand").get(f"/api/v1/publications/{publication.pk}/measurement/")
    assert answer.status_code == 200
    body = answer.json()
    held_out = sum(in_holdout(publication.pk, f"H{i:04d}", 50) for i in range(80))
    assert body["groups"]["sent"]["customers"] == 80 - held_out
    assert body["groups"]["holdout"]["customers"] == held_out
    assert "affiliated" in body["measured"]
    page = Client()
    page.force_login(brand)
    panel = page.get("/segments/hospitals/publications-panel/")
    assert panel.status_code == 200
    assert "affiliated with the sent and the held-out accounts" in panel.content.decode()
