"""Every role's inbox: what waits for them, each line linking to where it is handled."""

from __future__ import annotations

import pytest

from activation.models import Publication, PublicationState
from governance import services as governance
from tests.factories.activation import DestinationFactory

from .conftest import PASSWORD, decide_world_mapping

pytestmark = pytest.mark.django_db


def _paused(world) -> Publication:
    return Publication.objects.create(
        segment=world.active.segment,
        destination=DestinationFactory(key="crm-email"),
        created_by=world.users.author,
        state=PublicationState.PAUSED,
        paused_reason="Consent audit",
    )


def test_compliance_lands_on_its_inbox(world, page_client):
    client = page_client(world.users.compliance)
    assert client.get("/")["Location"] == "/inbox/"
    html = client.get("/inbox/").content.decode()
    assert 'href="/inbox/"' in html  # in the navigation
    assert 'data-testid="inbox-mappings"' in html
    assert f'href="/mappings/{world.mapping.pk}/"' in html
    # The asset expires in 20 days.
    assert 'data-testid="inbox-expiring"' in html and 'href="/content/US-CARD-0042/"' in html


def test_compliance_inbox_lists_the_revocations_it_caused(world, page_client):
    decide_world_mapping(world)
    client = page_client(world.users.compliance)
    client.post(
        "/content/US-CARD-0042/status/",
        {"status": "withdrawn", "reason": "safety update", "password": PASSWORD},
    )
    html = client.get("/inbox/").content.decode()
    assert "Revocations caused" in html and "safety update" in html


def test_brand_inbox_says_a_version_is_approved_and_ready(world, page_client):
    for user, team in (
        (world.users.brand, "brand"),
        (world.users.access, "access"),
        (world.users.medical, "medical"),
    ):
        governance.sign_version(
            user=user,
            version=world.in_review,
            team=team,
            decision="approve",
            comment="ok",
            password=PASSWORD,
        )
    html = page_client(world.users.author).get("/dashboard/inbox/").content.decode()
    assert 'data-testid="inbox-approved"' in html
    assert 'href="/segments/endo/"' in html and "ready to activate" in html


@pytest.mark.parametrize("who", ["author", "admin", "compliance"])
def test_paused_publication_reaches_brand_admin_and_compliance(world, page_client, who):
    _paused(world)
    html = page_client(getattr(world.users, who)).get("/inbox/").content.decode()
    assert 'data-testid="inbox-paused"' in html and "Consent audit" in html
    assert "Nothing waiting" not in html


def test_brand_inbox_lists_a_failed_delivery_with_the_log_link(world, page_client):
    from django.utils import timezone

    from activation.models import DeliveryState, Sync

    publication = _paused(world)
    publication.state = PublicationState.LIVE
    publication.save()
    now = timezone.now()
    Sync.objects.create(
        publication=publication,
        number=1,
        version=world.active,
        as_of=now,
        created_at=now,
        state=DeliveryState.FAILED,
        attempts=5,
        last_error="HTTP 503",
    )
    html = page_client(world.users.author).get("/dashboard/inbox/").content.decode()
    section = html.split('data-testid="inbox-delivery-failures"')[1].split("</ul>")[0]
    assert "Sync 1 of cardio → crm-email failed" in section
    assert "after 5 attempts: HTTP 503" in section
    assert 'href="/deliveries/?failed=1"' in section


def test_reviewer_inbox_page_lists_versions_to_sign(world, page_client):
    html = page_client(world.users.access).get("/inbox/").content.decode()
    assert 'href="/reviews/endo/v1/"' in html


def test_field_lead_has_no_inbox(world, page_client):
    assert page_client(world.users.field).get("/inbox/").status_code == 403
