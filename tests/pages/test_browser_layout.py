"""Layout defects found in review, measured in chromium: long keys and names, phones (390 px),
buttons that must not wrap ("Resum e"), the favicon."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from activation.models import Publication, PublicationState
from segmentation import services as segments
from tests.factories.activation import DestinationFactory
from tests.pages.a11y import broken_words
from tests.pages.conftest import CARDIOLOGY, decide_world_mapping

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_64_character_key_stays_in_its_column(world, page, live_server, login):
    # An existing 64-character key widens the parent select, which pushed the
    # form's first column under the preview panel.
    segments.segment_create(
        user=world.users.author,
        key="k" * 64,
        name="Long key",
        purpose="promotional",
        indications=[],
        entry_rule=CARDIOLOGY,
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_label("Key").fill("k" * 63 + "x")
    preview = page.locator("#preview-result").bounding_box()
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('#segment-form .grid-half *')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert right <= preview["x"]


def test_a_200_character_name_without_spaces_does_not_widen_the_list(
    world, page, live_server, login
):
    segments.segment_create(
        user=world.users.author,
        key="long-name",
        name="N" * 200,
        purpose="promotional",
        indications=[],
        entry_rule=CARDIOLOGY,
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    login("author")
    page.goto(f"{live_server.url}/segments/")
    expect(page.get_by_text("long-name")).to_be_visible()
    assert _page_width(page) <= 1280


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("author", "/segments/"),
        ("author", "/content/"),
        ("author", "/dashboard/"),
        ("author", "/segments/cardio/"),
        ("accesssigner", "/reviews/endo/v1/"),
        ("compliance", "/audit/"),
        ("compliance", "/content/US-CARD-0042/"),
        ("fieldlead", "/territories/T001/"),
    ],
)
def test_nothing_is_wider_than_a_390_px_phone(world, page, live_server, login, user, path):
    page.set_viewport_size({"width": 390, "height": 844})
    login(user)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    assert _page_width(page) <= 390, path


def test_resume_never_wraps_on_a_phone(world, page, live_server, login):
    # The gate is open (an approved mapping whose asset names email), so Resume is offered.
    decide_world_mapping(world)
    Publication.objects.create(
        segment=world.active.segment,
        destination=DestinationFactory(key="crm-email", channel="email"),
        created_by=world.users.author,
        state=PublicationState.PAUSED,
        paused_reason="Consent audit",
    )
    page.set_viewport_size({"width": 375, "height": 740})
    login("author")
    page.goto(f"{live_server.url}/segments/cardio/")
    expect(page.get_by_role("button", name="Resume", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert "Resume" not in broken_words(page)


def test_the_holdout_table_caption_keeps_its_words_on_a_phone(world, page, live_server, login):
    # On a phone the table becomes cards; its caption must take the column's width, not
    # shrink to a sliver that breaks "Minimum detectable effect" letter by letter.
    decide_world_mapping(world)
    DestinationFactory(key="crm-email", channel="email")
    page.set_viewport_size({"width": 375, "height": 740})
    login("author")
    page.goto(f"{live_server.url}/segments/cardio/")
    caption = page.locator("#holdout-power-body caption")
    expect(caption).to_contain_text("Minimum detectable effect")
    page.wait_for_load_state("networkidle")
    assert caption.evaluate("c => c.getBoundingClientRect().width") > 300
    assert not {"Minimum", "detectable", "effect"} & set(broken_words(page))


def test_favicon_answers(page, live_server):
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200
