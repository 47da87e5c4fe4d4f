"""Webhook targets never reach link-local or cloud-metadata addresses, checked when saved
and after DNS resolution at every delivery (connecting to the checked address); webhook
secrets are encrypted at rest (docs/activation.md, "Destinations", "Secrets at rest")."""

from __future__ import annotations

import hashlib
import hmac
import socket

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from activation import services
from activation.encryption import decrypt
from activation.models import DeliveryAttempt, Destination, Sync
from activation.services import deliver_publication, sync_publication
from activation.services.delivery import backoff_seconds
from tests.factories.activation import DestinationFactory
from tests.migrations import migrate_to, migrate_to_latest

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db

SECRET = "whsec-plain-never-stored"
WEBHOOK = {"key": "crm", "channel": "rep_visit", "kind": "webhook", "secret": SECRET}
REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.1.1:8080/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.google.internal./x",
    "http://metadata/computeMetadata/v1/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/hook",
    "http://100.100.100.200/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9.0xfe.0xa9.0xfe/",
]
ALLOWED_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]:9000/hook",
    "https://10.20.30.40/hook",
    "https://192.168.1.5/hook",
    "https://crm.example.internal/hooks/segments",
]


def _raw_secret(key: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM activation_destination WHERE key = %s", [key])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_link_local_or_metadata_webhook_is_refused_at_creation(client_for, url):
    response = client_for("admin").post("/api/v1/destinations/", {**WEBHOOK, "url": url}, "json")
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["path"] == "url" and "link-local or cloud-metadata" in error["message"]
    assert not Destination.objects.exists()


@pytest.mark.parametrize("url", REFUSED_URLS[:4])
def test_a_link_local_or_metadata_webhook_is_refused_on_patch(client_for, url):
    admin = client_for("admin")
    admin.post("/api/v1/destinations/", {**WEBHOOK, "url": "https://10.0.0.8/hook"}, "json")
    response = admin.patch("/api/v1/destinations/crm/", {"url": url}, "json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "url"
    assert Destination.objects.get(key="crm").url == "https://10.0.0.8/hook"


@pytest.mark.parametrize("url", ALLOWED_URLS)
def test_private_and_loopback_webhooks_stay_allowed(client_for, url):
    response = client_for("admin").post("/api/v1/destinations/", {**WEBHOOK, "url": url}, "json")
    assert response.status_code == 201, response.content


def test_a_bad_port_is_a_400_not_a_500(client_for):
    url = "http://127.0.0.1:99999/hook"
    response = client_for("admin").post("/api/v1/destinations/", {**WEBHOOK, "url": url}, "json")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "url"


@pytest.fixture
def published(make_user):
    """A publication to a webhook on ``hooks.example.test`` (resolved by the test)."""

    def make(port: int):
        brand = make_user("brand")
        version = active_version(brand, "cardio", customers=cardiologists(2))
        approved_mapping(version, brand)
        destination = DestinationFactory(
            url=f"http://hooks.example.test:{port}/hook", secret=SECRET
        )
        publication = services.create_publication(
            user=brand, segment=version.segment, destination_key=destination.key
        )
        sync_publication(publication_id=publication.pk, trigger="test")
        return publication

    return make


def _resolver(monkeypatch, *answers: str):
    """Resolve ``hooks.example.test`` to each of ``answers`` in turn (a rebinding DNS)."""
    calls: list[str] = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host != "hooks.example.test":
            return real(host, port, *args, **kwargs)
        address = answers[min(len(calls), len(answers) - 1)]
        calls.append(address)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return calls


def test_a_delivery_to_a_name_resolving_to_metadata_is_a_failed_attempt(
    published, receiver, monkeypatch
):
    publication = published(receiver.server.server_address[1])
    _resolver(monkeypatch, "169.254.169.254")
    outcome = deliver_publication(publication_id=publication.pk)
    assert outcome.failed == 1 and "169.254.169.254" in outcome.error
    assert "link-local or cloud-metadata" in outcome.error
    assert outcome.retry_in == backoff_seconds(1)
    sync = Sync.objects.get(publication=publication, number=1)
    assert sync.state == "failed" and sync.attempts == 1 and sync.next_retry_at is not None
    attempt = DeliveryAttempt.objects.get(sync=sync)
    assert attempt.ok is False and "refused" in attempt.error
    assert receiver.requests == []


def test_any_refused_address_among_several_refuses_the_delivery(published, receiver, monkeypatch):
    publication = published(receiver.server.server_address[1])
    real = socket.getaddrinfo

    def two(host, port, *args, **kwargs):
        if host != "hooks.example.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:169.254.169.254", port, 0, 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two)
    outcome = deliver_publication(publication_id=publication.pk)
    assert outcome.failed == 1 and receiver.requests == []


def test_the_delivery_connects_to_the_address_it_checked(published, receiver, monkeypatch):
    port = receiver.server.server_address[1]
    publication = published(port)
    # The first answer is checked; a rebinding DNS would answer metadata afterwards.
    calls = _resolver(monkeypatch, "127.0.0.1", "169.254.169.254")
    outcome = deliver_publication(publication_id=publication.pk)
    assert outcome.delivered == [1], outcome
    assert calls == ["127.0.0.1"]
    (request,) = receiver.requests
    assert request["headers"]["Host"] == f"hooks.example.test:{port}"
    expected = hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == f"sha256={expected}"


def test_the_database_column_does_not_hold_the_plain_secret(client_for):
    url = "https://10.0.0.8/hook"
    client_for("admin").post("/api/v1/destinations/", {**WEBHOOK, "url": url}, "json")
    raw = _raw_secret("crm")
    assert raw and SECRET not in raw
    assert decrypt(raw) == SECRET
    assert Destination.objects.get(key="crm").secret == SECRET


def test_a_rotated_key_still_reads_old_secrets_and_the_command_reencrypts(settings, capsys):
    old_key = settings.DESTINATION_SECRET_KEYS[0]
    DestinationFactory(key="crm", secret=SECRET)
    before = _raw_secret("crm")
    new_key = Fernet.generate_key().decode()
    settings.DESTINATION_SECRET_KEYS = [new_key, old_key]
    assert Destination.objects.get(key="crm").secret == SECRET
    call_command("rotate_destination_secrets")
    assert "1 destination secret" in capsys.readouterr().out
    after = _raw_secret("crm")
    assert after != before
    settings.DESTINATION_SECRET_KEYS = [new_key]
    assert Destination.objects.get(key="crm").secret == SECRET


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_secrets_stored_in_plain_text():
    migrate_to([("activation", "0003_no_fk_checks_on_members")])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activation_destination (key, name, channel, kind, url, directory, "
            "secret, created_at, updated_at) VALUES ('old', 'Old', 'email', 'webhook', "
            "'http://127.0.0.1:9/h', '', %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            [SECRET],
        )
    migrate_to_latest()
    raw = _raw_secret("old")
    assert SECRET not in raw and decrypt(raw) == SECRET
    assert Destination.objects.get(key="old").secret == SECRET


@pytest.mark.parametrize(
    "directory",
    ["a" * 999, "/".join(["abcdefghij"] * 95), "x" * 300 + "/daily"],
)
def test_an_over_long_file_directory_is_a_400_naming_it(client_for, directory):
    data = {"key": "drop", "channel": "email", "kind": "file", "directory": directory}
    response = client_for("admin").post("/api/v1/destinations/", data, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["path"] == "directory"
    assert not Destination.objects.exists()
