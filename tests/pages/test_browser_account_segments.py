"""Account segments in the browser: a health-system segment with a members count over a
nested customer rule goes from draft to active through sign-off; its account page."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from governance import services as governance
from segmentation.models import AccountMembershipSpell, Segment
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory
from tests.pages.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RULE = {
    "all": [
        {"field": "account_type", "op": "eq", "value": "health_system"},
        {
            "members": {
                "all": [
                    {"field": "specialty", "op": "eq", "value": "cardiology"},
                    {"field": "decile", "op": "gte", "value": 8},
                ]
            },
            "count": {"op": "gte", "value": 2},
        },
    ]
}


def test_health_system_segment_from_draft_to_active(world, page, live_server, login, shot):
    hs = AccountFactory(account_id="HS-1", name="Northeast Health", account_type="health_system")
    h1 = AccountFactory(account_id="H-1", name="Bay Hospital", parent=hs, territory_id="T001")
    AccountFactory(account_id="HS-2", name="Small Health", account_type="health_system")
    CustomerFactory(account=h1, specialty="cardiology", decile=9)
    CustomerFactory(account=h1, specialty="cardiology", decile=8)

    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_label("Key").fill("big-systems")
    page.get_by_label("Name").fill("Health systems with cardiologists")
    page.get_by_label("Unit").select_option("account")
    page.get_by_label("Rollup").select_option("hierarchy")
    page.locator("details", has_text="JSON view of the entry rule").locator("summary").click()
    page.locator("#id_entry_rule").fill(json.dumps(RULE))
    # The builder shows the nested customer rule; the preview counts accounts.
    expect(page.locator("[data-rule-editor][data-name=entry_rule] .rb-members")).to_be_visible()
    expect(page.get_by_test_id("preview-count")).to_have_text("1")
    expect(page.get_by_test_id("preview-accounts")).to_contain_text("HS-1")
    shot("account-segment-builder")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft version 1 saved.")).to_be_visible()
    expect(page.get_by_test_id("unit-badge")).to_contain_text("hierarchy")
    page.get_by_role("button", name="Submit v1 for review").click()
    expect(page.get_by_text("Version 1 submitted for review.")).to_be_visible()

    version = Segment.objects.get(key="big-systems").versions.get(number=1)
    for user, team in ((world.users.brand, "brand"), (world.users.medical, "medical")):
        governance.sign_version(
            user=user,
            version=version,
            team=team,
            decision="approve",
            comment="ok",
            password=PASSWORD,
        )
    page.context.clear_cookies()
    login("accesssigner")
    page.goto(f"{live_server.url}/reviews/big-systems/v1/")
    page.get_by_label("Team you sign for").select_option("access")
    page.get_by_label("Approve").check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_text("You approved big-systems v1 for the access team.")).to_be_visible()

    page.context.clear_cookies()
    login("author")
    page.goto(f"{live_server.url}/segments/big-systems/")
    page.get_by_role("button", name="Activate approved v1").click()
    version.refresh_from_db()
    assert version.state == "active"
    assert set(
        AccountMembershipSpell.objects.filter(
            version=version, exited_as_of__isnull=True
        ).values_list("account_id", flat=True)
    ) == {"HS-1"}
    page.goto(f"{live_server.url}/segments/big-systems/")
    expect(page.get_by_test_id("member-accounts")).to_contain_text("HS-1")
    shot("account-segment-active")
    page.get_by_test_id("member-accounts").get_by_role("link", name="HS-1").click()
    expect(page.get_by_test_id("account-segments")).to_contain_text("big-systems")
    shot("account-page")
