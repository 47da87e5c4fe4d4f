"""Account and influence segments in the browser, each from draft to active through
sign-off: a health-system segment with a members count over a nested customer rule (and
its account page), a payer segment on coverage, and a KOL customer segment on influence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Coverage, Influence, ReferralNetwork
from governance import services as governance
from segmentation.models import Membership, Segment
from segmentation.services import recompute_version
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory
from tests.governance.support import active_segment
from tests.pages.a11y import assert_axe_clean, off_screen
from tests.pages.browser import fill_new_segment, quiet, save_draft
from tests.pages.conftest import PASSWORD
from tests.segmentation.segments_support import account_member_ids

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


def new_segment(page, live_server, key: str, name: str, rule: dict, unit="customer", rollup=None):
    """Write a rule in the builder's JSON view on /segments/new/ (the preview follows)."""
    page.goto(f"{live_server.url}/segments/new/")
    fill_new_segment(page, key, name, rule, unit=unit, rollup=rollup)


def sign_off_and_activate(page, live_server, login, world, key: str):
    """From the saved draft's page: submit, two teams sign through the service, access
    signs in the browser, the author activates. Returns the active version 1."""
    page.get_by_role("button", name="Submit v1 for review").click()
    expect(page.get_by_text("Version 1 submitted for review.")).to_be_visible()
    quiet(page)  # the services below write from this thread

    version = Segment.objects.get(key=key).versions.get(number=1)
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
    page.goto(f"{live_server.url}/reviews/{key}/v1/")
    page.get_by_label("Team you sign for").select_option("access")
    page.get_by_label("Approve").check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_text(f"You approved {key} v1 for the access team.")).to_be_visible()

    page.context.clear_cookies()
    login("author")
    page.goto(f"{live_server.url}/segments/{key}/")
    page.get_by_role("button", name="Activate approved v1").click()
    page.wait_for_load_state("networkidle")
    version.refresh_from_db()
    assert version.state == "active"
    return version


def test_health_system_segment_from_draft_to_active(world, page, live_server, login, shot):
    hs = AccountFactory(account_id="HS-1", name="Northeast Health", account_type="health_system")
    h1 = AccountFactory(account_id="H-1", name="Bay Hospital", parent=hs, territory_id="T001")
    AccountFactory(account_id="HS-2", name="Small Health", account_type="health_system")
    CustomerFactory(account=h1, specialty="cardiology", decile=9)
    CustomerFactory(account=h1, specialty="cardiology", decile=8)

    login("author")
    new_segment(
        page,
        live_server,
        "big-systems",
        "Health systems with cardiologists",
        RULE,
        unit="account",
        rollup="hierarchy",
    )
    # The builder shows the nested customer rule; the preview counts accounts.
    expect(page.locator("[data-rule-editor][data-name=entry_rule] .rb-members")).to_be_visible()
    expect(page.get_by_test_id("preview-count")).to_have_text("1")
    expect(page.get_by_test_id("preview-accounts")).to_contain_text("HS-1")
    shot("account-segment-builder")
    save_draft(page)
    expect(page.get_by_test_id("unit-badge")).to_contain_text("hierarchy")
    version = sign_off_and_activate(page, live_server, login, world, "big-systems")
    assert account_member_ids(version) == {"HS-1"}
    page.goto(f"{live_server.url}/segments/big-systems/")
    expect(page.get_by_test_id("member-accounts")).to_contain_text("HS-1")
    shot("account-segment-active")
    page.get_by_test_id("member-accounts").get_by_role("link", name="HS-1").click()
    expect(page.get_by_test_id("account-segments")).to_contain_text("big-systems")
    shot("account-page")


PAYERS = {
    "all": [
        {"field": "account_type", "op": "eq", "value": "payer"},
        {
            "coverage": {"product": "CARDIOZEN"},
            "status": {"op": "in", "value": ["prior_auth", "covered"]},
            "lives": {"op": "gte", "value": 10000},
        },
    ]
}


def test_payer_segment_on_coverage_from_draft_to_active(world, page, live_server, login, shot):
    rows = {
        "PAY-1": ("prior_auth", 50000),
        "PAY-2": ("not_covered", 80000),
        "PAY-3": ("covered", 900),
    }
    for account_id, (status, lives) in rows.items():
        payer = AccountFactory(account_id=account_id, account_type="payer", territory_id="T001")
        Coverage.objects.create(
            account=payer,
            product="CARDIOZEN",
            status=status,
            lives=lives,
            effective_from=dt.date(2026, 1, 1),
        )
    AccountFactory(account_id="PAY-4", account_type="payer")  # no coverage row: never in

    login("author")
    new_segment(page, live_server, "pa-payers", "Payers covering Cardiozen", PAYERS, unit="account")
    # The builder shows the coverage condition's controls; the preview counts payers.
    editor = page.locator("[data-rule-editor][data-name=entry_rule]")
    expect(editor.get_by_label("Coverage product")).to_have_value("CARDIOZEN")
    expect(page.get_by_test_id("preview-count")).to_have_text("1")
    expect(page.get_by_test_id("preview-accounts")).to_contain_text("PAY-1")
    expect(page.get_by_test_id("preview-sentence")).to_contain_text(
        "has coverage of CARDIOZEN whose status is prior auth or covered"
    )
    shot("payer-segment-builder")
    save_draft(page)
    expect(page.get_by_test_id("unit-badge")).to_contain_text("accounts")
    version = sign_off_and_activate(page, live_server, login, world, "pa-payers")
    assert account_member_ids(version) == {"PAY-1"}
    page.goto(f"{live_server.url}/segments/pa-payers/")
    expect(page.get_by_test_id("member-accounts")).to_contain_text("PAY-1")
    expect(page.get_by_test_id("member-accounts")).not_to_contain_text("PAY-2")
    shot("payer-segment-active")


KOLS = {
    "all": [
        {"field": "specialty", "op": "eq", "value": "cardiology"},
        {"field": "influence.pagerank_pct_in_specialty", "op": "gte", "value": 90},
    ]
}


def test_kol_segment_on_influence_from_draft_to_active(world, page, live_server, login, shot):
    network = ReferralNetwork.objects.create(
        period_end=dt.date(2025, 12, 31), pairs=3, customers=3, imported_at=timezone.now()
    )
    kol, follower, _, _, endo, _ = world.customers
    for customer, pct in ((kol, 95), (follower, 40), (endo, 99)):
        Influence.objects.create(
            network=network,
            customer=customer,
            referrals_in=5,
            referrals_out=1,
            pagerank=pct / 1000,
            pagerank_pct=pct,
            pagerank_pct_in_specialty=pct,
        )

    login("author")
    new_segment(page, live_server, "cardio-kols", "Cardiology KOLs", KOLS)
    editor = page.locator("[data-rule-editor][data-name=entry_rule]")
    expect(editor.locator(".rb-cond")).to_have_count(2)
    expect(page.get_by_test_id("preview-count")).to_have_text("1")
    shot("kol-segment-builder")
    save_draft(page)
    version = sign_off_and_activate(page, live_server, login, world, "cardio-kols")
    npis = Membership.objects.filter(version=version).values_list("customer__npi", flat=True)
    assert set(npis) == {kol.npi}  # the endocrinologist ranks high, but in another specialty
    page.goto(f"{live_server.url}/hcps/{kol.npi}/")
    expect(page.get_by_test_id("customer-influence")).to_contain_text("95")
    expect(page.get_by_role("link", name="Cardiology KOLs")).to_be_visible()
    shot("kol-customer-page")


def test_field_lead_sees_member_accounts_counted_in_the_territory_overview(
    world, page, live_server, login, make_user, shot
):
    AccountFactory(account_id="H-1", name="Bay Hospital", territory_id="T001")
    AccountFactory(account_id="H-2", name="Harbor Hospital", territory_id="T001")
    AccountFactory(account_id="P-1", account_type="payer", territory_id="T001")
    hospitals = {"field": "account_type", "op": "eq", "value": "hospital"}
    recompute_version(
        version=active_segment(make_user, "hospitals", unit="account", entry_rule=hospitals)
    )

    login("fieldlead")
    page.goto(f"{live_server.url}/territories/")
    overview = page.get_by_test_id("territory-overview")
    row = overview.get_by_role("row").filter(has_text="hospitals")
    expect(row).to_contain_text("accounts")
    expect(row.get_by_role("cell").nth(1)).to_have_text("2 accounts")
    expect(page.locator("#overview-counts")).to_contain_text("its member accounts")
    assert_axe_clean(page, "territory overview")
    shot("field-territory-overview-accounts")
    page.set_viewport_size({"width": 390, "height": 844})
    assert off_screen(page) == 0
    page.get_by_role("link", name="2 member accounts of Hospitals here").click()
    listed = page.get_by_test_id("territory-member-accounts")
    expect(listed).to_contain_text("H-1")
    expect(listed).to_contain_text("H-2")
    expect(listed).not_to_contain_text("P-1")
