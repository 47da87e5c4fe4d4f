"""Wiring and wording: the propose link preselects, publish only when active, resume only
when the gate is open, assets name their channels, printed names, codes in words."""

from __future__ import annotations

import pytest

from activation.models import Publication, PublicationState
from content.services import create_asset
from core.errors import ValidationFailed
from tests.factories.activation import DestinationFactory

pytestmark = pytest.mark.django_db


def test_propose_link_preselects_the_segment(world, page_client):
    client = page_client(world.users.author)
    panel = client.get("/segments/cardio/content/").content.decode()
    assert 'href="/content/?segment=cardio#propose"' in panel
    html = client.get("/content/?segment=cardio").content.decode()
    assert '<option value="cardio" selected>' in html


def test_publish_form_only_on_an_active_segment(world, page_client):
    DestinationFactory(key="crm-email")
    client = page_client(world.users.author)
    assert (
        'name="holdout_percent"'
        in client.get("/segments/cardio/publications-panel/").content.decode()
    )
    for key in ("endo", "draft-seg"):
        assert 'name="holdout_percent"' not in (
            client.get(f"/segments/{key}/publications-panel/").content.decode()
        )


def test_resume_is_not_offered_while_the_gate_is_closed(world, page_client):
    # No approved mapping for email: the gate is closed.
    Publication.objects.create(
        segment=world.active.segment,
        destination=DestinationFactory(key="crm-email", channel="email"),
        created_by=world.users.author,
        state=PublicationState.PAUSED,
    )
    html = (
        page_client(world.users.author).get("/segments/cardio/publications-panel/").content.decode()
    )
    assert 'data-testid="resume-blocked"' in html and ">Resume<" not in html


def test_an_asset_must_name_its_channels(world):
    with pytest.raises(ValidationFailed) as caught:
        create_asset(
            user=world.users.compliance,
            data={"code": "US-X-1", "title": "T", "audience": "hcp", "intent": "promotional"},
        )
    assert {e.path for e in caught.value.errors} == {"channels"}
    with pytest.raises(ValidationFailed):
        create_asset(
            user=world.users.compliance,
            data={
                "code": "US-X-2",
                "title": "T",
                "audience": "hcp",
                "intent": "promotional",
                "channels": [],
            },
        )


def test_asset_history_shows_printed_names(world, page_client):
    from content.services import create_asset as make

    make(
        user=world.users.compliance,
        data={
            "code": "US-X-3",
            "title": "T",
            "audience": "hcp",
            "intent": "promotional",
            "channels": ["email"],
        },
    )
    html = page_client(world.users.compliance).get("/content/US-X-3/").content.decode()
    history = html.split('data-testid="asset-history"')[1].split("</table>")[0]
    assert "Cora Compliance" in history


def test_new_this_week_opens_the_people(world, page_client):
    client = page_client(world.users.field)
    overview = client.get("/territories/").content.decode()
    assert 'href="/territories/T001/?segment=cardio&amp;new=1#members-h"' in overview
    html = client.get("/territories/T001/?segment=cardio&new=1").content.decode()
    assert "New this week in cardio" in html and 'class="cards"' in html
    assert html.count('data-label="NPI"') == 3
