"""Brand's loop: the content panel and rejection on the segment page, the dashboard inbox
(docs/governance.md)."""

from __future__ import annotations

from governance import services as governance
from tests.pages.conftest import PASSWORD, decide_world_mapping


def _reject(world, comment="Exclude opt-outs first"):
    governance.sign_version(
        user=world.users.access,
        version=world.in_review,
        team="access",
        decision="reject",
        comment=comment,
        password=PASSWORD,
    )


def test_segment_page_shows_a_rejection_prominently(world, page_client):
    _reject(world, comment="Exclude <opt-outs> first")
    html = page_client(world.users.author).get("/segments/endo/").content.decode()
    assert 'data-testid="rejection"' in html
    assert "Exclude &lt;opt-outs&gt; first" in html
    assert html.index('data-testid="rejection"') < html.index("Rules in plain English")


def test_segment_page_loads_the_content_panel_from_content(world, page_client):
    html = page_client(world.users.author).get("/segments/cardio/").content.decode()
    assert 'hx-get="/segments/cardio/content/"' in html
    decide_world_mapping(world, "reject", "Not for this audience")
    panel = page_client(world.users.author).get("/segments/cardio/content/").content.decode()
    assert "US-CARD-0042" in panel and "Not for this audience" in panel
    assert "rejected" in panel


def test_content_panel_refused_to_medical(world, page_client):
    assert page_client(world.users.medical).get("/segments/cardio/content/").status_code == 403
    html = page_client(world.users.medical).get("/segments/cardio/").content.decode()
    assert "/segments/cardio/content/" not in html


def test_inbox_lists_versions_awaiting_my_signature(world, page_client):
    html = page_client(world.users.access).get("/dashboard/inbox/").content.decode()
    assert "Endocrinologists (version 1)" in html
    # The author is never asked to sign their own version.
    html = page_client(world.users.author).get("/dashboard/inbox/").content.decode()
    assert "Awaiting your signature" not in html


def test_inbox_shows_my_rejection_and_decided_proposal(world, page_client):
    _reject(world)
    decide_world_mapping(world, "approve", "Fits the label")
    html = page_client(world.users.author).get("/dashboard/inbox/").content.decode()
    assert "Exclude opt-outs first" in html
    assert "Fits the label" in html and "US-CARD-0042" in html


def test_inbox_shows_revoked_mappings(world, page_client):
    decide_world_mapping(world)
    page_client(world.users.compliance).post(
        "/content/US-CARD-0042/status/",
        {"status": "withdrawn", "reason": "safety update", "password": PASSWORD},
    )
    html = page_client(world.users.author).get("/dashboard/inbox/").content.decode()
    assert 'data-testid="inbox-revoked"' in html and "safety update" in html


def test_dashboard_loads_the_inbox(world, page_client):
    html = page_client(world.users.author).get("/dashboard/").content.decode()
    assert 'hx-get="/dashboard/inbox/"' in html


def test_segment_page_shows_size_over_time_and_recent_changes(world, page_client):
    html = page_client(world.users.author).get("/segments/cardio/").content.decode()
    assert 'data-testid="size-chart"' in html and "<svg" in html
    assert 'data-testid="recent-changes"' in html and "entered" in html
