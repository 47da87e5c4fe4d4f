"""Delivery: signed webhook posts with retries in order, and atomic CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import os
from pathlib import Path

import pytest
from django.utils import timezone

from activation import services
from activation.models import DeliveryAttempt, Sync
from activation.services import deliver_publication, sync_publication
from activation.services.delivery import backoff_seconds
from activation.tasks import retry_due_deliveries
from audit.models import AuditEvent
from tests.factories.activation import DestinationFactory

from .support import active_version, approved_mapping, cardiologists, members

pytestmark = pytest.mark.django_db

SECRET = "whsec-test-only"


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def webhook_publication(brand, receiver, customers, key="cardio"):
    version = active_version(brand, key, customers=customers)
    approved_mapping(version, brand, code=f"US-{key.upper()}-1")
    destination = DestinationFactory(url=receiver.url, secret=SECRET)
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    return version, publication


def test_webhook_fails_times_out_then_accepts(brand, receiver):
    people = cardiologists(2)
    _, publication = webhook_publication(brand, receiver, people)
    sync_publication(publication_id=publication.pk, trigger="test")
    receiver.script = ["fail", "hang", "garbage"]
    outcomes = [deliver_publication(publication_id=publication.pk, force=True) for _ in range(4)]
    assert [o.failed for o in outcomes] == [1, 1, 1, None]
    assert "HTTP 500" in outcomes[0].error
    assert "timed out" in outcomes[1].error
    assert outcomes[3].delivered == [1]
    sync = Sync.objects.get(publication=publication, number=1)
    assert sync.state == "delivered" and sync.attempts == 4
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert keys == {f"{publication.pk}-1"}
    assert {m["sync"] for m in receiver.accepted()} == {1}


def test_signature_is_hmac_sha256_of_the_raw_body(brand, receiver):
    _, publication = webhook_publication(brand, receiver, cardiologists(1))
    sync_publication(publication_id=publication.pk, trigger="test")
    deliver_publication(publication_id=publication.pk)
    (request,) = receiver.requests
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"
    assert request["headers"]["Content-Type"] == "application/json"


def test_a_failed_sync_waits_for_its_backoff(brand, receiver):
    _, publication = webhook_publication(brand, receiver, cardiologists(1))
    sync_publication(publication_id=publication.pk, trigger="test")
    receiver.script = ["fail"]
    first = deliver_publication(publication_id=publication.pk)
    second = deliver_publication(publication_id=publication.pk)
    assert first.failed == 1 and first.retry_in == 10
    assert second.failed is None and second.delivered == [] and second.retry_in > 0
    assert len(receiver.requests) == 1


def test_backoff_doubles_and_is_capped(settings):

    settings.ACTIVATION_RETRY_BASE_SECONDS = 10
    settings.ACTIVATION_RETRY_MAX_SECONDS = 60
    assert [backoff_seconds(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]


def test_sync_n_plus_1_waits_for_sync_n(brand, receiver):
    a, b = cardiologists(2)
    version, publication = webhook_publication(brand, receiver, [a])
    sync_publication(publication_id=publication.pk, trigger="test")
    members(version, [a, b])
    sync_publication(publication_id=publication.pk, trigger="test")
    receiver.script = ["fail"]
    deliver_publication(publication_id=publication.pk)
    assert [r["answer"] for r in receiver.requests] == ["fail"]
    assert Sync.objects.get(publication=publication, number=2).attempts == 0
    outcome = deliver_publication(publication_id=publication.pk, force=True)
    assert outcome.delivered == [1, 2]
    assert [m["sync"] for m in receiver.accepted()] == [1, 2]


def test_a_hanging_destination_does_not_block_another_publication(brand, receiver):
    _, slow = webhook_publication(brand, receiver, cardiologists(1), key="slow")
    _, fast = webhook_publication(brand, receiver, cardiologists(1), key="fast")
    sync_publication(publication_id=slow.pk, trigger="test")
    sync_publication(publication_id=fast.pk, trigger="test")
    receiver.script = ["hang"]
    assert deliver_publication(publication_id=slow.pk).failed == 1
    assert deliver_publication(publication_id=fast.pk).delivered == [1]


def test_every_delivery_outcome_is_audited_without_the_secret(brand, receiver):
    _, publication = webhook_publication(brand, receiver, cardiologists(1))
    sync_publication(publication_id=publication.pk, trigger="test")
    receiver.script = ["fail"]
    deliver_publication(publication_id=publication.pk)
    deliver_publication(publication_id=publication.pk, force=True)
    actions = list(
        AuditEvent.objects.filter(object_type="publication").values_list("action", flat=True)
    )
    assert actions.count("sync.delivery_failed") == 1
    assert actions.count("sync.delivered") == 1
    assert DeliveryAttempt.objects.count() == 2
    dump = " ".join(str(e.after) + e.reason for e in AuditEvent.objects.all())
    assert SECRET not in dump


def test_request_sync_retries_now_and_reports(brand, receiver, client_for):
    _, publication = webhook_publication(brand, receiver, cardiologists(1))
    receiver.script = ["fail"]
    client = client_for("brand")
    first = client.post(f"/api/v1/publications/{publication.pk}/sync/").json()
    second = client.post(f"/api/v1/publications/{publication.pk}/sync/").json()
    assert first["created"] is True and first["delivery"]["failed"] == 1
    assert second["created"] is False and second["delivery"]["delivered"] == [1]


def file_publication(brand, settings, customers):
    version = active_version(brand, customers=customers)
    approved_mapping(version, brand)
    directory = Path(settings.ACTIVATION_FILE_ROOT) / "veeva"
    destination = DestinationFactory(
        kind="file", url="", secret="", directory=str(directory), channel="rep_visit"
    )
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    return version, publication, directory


def test_file_destination_writes_the_named_csv(brand, settings):
    a, b = cardiologists(2)
    version, publication, directory = file_publication(brand, settings, [a, b])
    sync_publication(publication_id=publication.pk, trigger="test")
    members(version, [b])
    sync_publication(publication_id=publication.pk, trigger="test")
    assert deliver_publication(publication_id=publication.pk).delivered == [1, 2]
    name = f"cardio-{publication.pk}-000002.csv"
    assert sorted(os.listdir(directory)) == [f"cardio-{publication.pk}-000001.csv", name]
    with open(directory / name, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["action", "npi", "content", "reason"], ["exit", a.npi, "", "exit"]]


def test_file_is_renamed_into_place_never_written_in_place(brand, settings, monkeypatch):
    (a,) = cardiologists(1)
    _, publication, directory = file_publication(brand, settings, [a])
    sync_publication(publication_id=publication.pk, trigger="test")
    seen = []
    real_replace = os.replace

    def watching_replace(src, dst):
        seen.append((Path(src).name, Path(dst).name, sorted(os.listdir(directory))))
        return real_replace(src, dst)

    monkeypatch.setattr("activation.services.delivery.os.replace", watching_replace)
    deliver_publication(publication_id=publication.pk)
    ((src, dst, before),) = seen
    assert dst == f"cardio-{publication.pk}-000001.csv"
    assert src.startswith(".") and src.endswith(".tmp")
    assert before == [src]  # the final name did not exist until the rename
    assert os.listdir(directory) == [dst]


def test_file_cells_are_neutralised(brand, settings):
    (a,) = cardiologists(1)
    version, publication, directory = file_publication(brand, settings, [a])
    approved_mapping(version, brand, code="=HYPERLINK(1)", channels=["rep_visit"])
    sync_publication(publication_id=publication.pk, trigger="test")
    deliver_publication(publication_id=publication.pk)
    text = (directory / f"cardio-{publication.pk}-000001.csv").read_text()
    assert "'=HYPERLINK(1)|US-CARD-0042" in text


def test_beat_job_retries_due_failures(brand, receiver):

    _, publication = webhook_publication(brand, receiver, cardiologists(1))
    sync_publication(publication_id=publication.pk, trigger="test")
    receiver.script = ["fail"]
    deliver_publication(publication_id=publication.pk)
    Sync.objects.filter(publication=publication).update(
        next_retry_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert retry_due_deliveries() == 1
    assert Sync.objects.get(publication=publication).state == "delivered"
