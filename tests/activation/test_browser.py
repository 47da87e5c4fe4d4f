"""The segment page in Debian's chromium: the Publications panel loads with htmx,
shows the lift with its interval, and pauses a publication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activation import services
from activation.models import Publication, PublicationMember
from activation.services import in_holdout, sync_publication
from customers.models import Interaction
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.activation import DestinationFactory
from tests.pages.browser import quiet

from .support import active_version, approved_mapping, cardiologists

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def measured(make_user, settings, tmp_path):
    """A publication with 50% holdout, four weeks old, sent members engaging more."""
    brand = make_user("brand", username="brand-browser")
    people = cardiologists(90)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    destination = DestinationFactory(
        kind="file", url="", secret="", directory=str(tmp_path / "drop"), channel="email"
    )
    settings.ACTIVATION_FILE_ROOT = tmp_path
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key, holdout_percent=50
    )
    sync_publication(publication_id=publication.pk, trigger="test")
    start = timezone.now() - dt.timedelta(weeks=4)
    PublicationMember.objects.filter(publication=publication).update(since=start)
    Interaction.objects.bulk_create(
        Interaction(
            customer=c,
            channel="email",
            kind="opened",
            occurred_at=start + dt.timedelta(days=1 + k),
        )
        for i, c in enumerate(people)
        for k in range((i % 3 + 2) if not in_holdout(publication.pk, c.npi, 50) else i % 2)
    )
    return publication


def test_panel_shows_the_lift_and_pauses(measured, page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("brand-browser")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/segments/cardio/")
    panel = page.locator("#publications-panel")
    expect(panel.get_by_role("heading", name="Publications")).to_be_visible()
    expect(panel.get_by_role("img", name="Lift with 95% confidence interval")).to_be_visible()
    expect(panel).to_contain_text("Lift on the channel")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "activation-publications-panel.png"), full_page=True)
    panel.get_by_role("button", name="Pause").click()
    expect(page.locator("#publications-panel")).to_contain_text("paused by brand-browser")
    # The panel's own requests end before this thread reads: SQLite's live server
    # shares its one connection ("database table is locked" at teardown otherwise).
    quiet(page)
    assert Publication.objects.get(pk=measured.pk).state == "paused"
