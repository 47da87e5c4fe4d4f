"""The browser loops' acceptance: each user group does its whole job in the browser, no API call
(docs/governance.md, docs/imports.md). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from content.models import ContentAsset, ContentMapping
from content.services import propose_mapping
from customers.models import Customer
from governance import services as governance
from governance.models import Signature
from segmentation import services as segments
from segmentation.models import Segment
from tests.factories import CustomerFactory, valid_npi
from tests.pages.browser import quiet
from tests.pages.conftest import CARDIOLOGY, PASSWORD, decide_world_mapping

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_compliance_takes_an_asset_from_draft_to_approved_to_withdrawn(
    world, page, live_server, login, shot
):
    login("compliance")
    page.goto(f"{live_server.url}/content/")
    page.get_by_role("link", name="New asset").click()
    page.get_by_label("Code").fill("US-CARD-0100")
    page.get_by_label("Title").fill("HF titration guide")
    page.get_by_label("Intent").select_option("promotional")
    page.get_by_label("Therapy area").fill("cardiology")
    page.get_by_label("Heart failure").check()
    page.get_by_label("Email").check()
    page.get_by_role("button", name="Create draft asset").click()
    expect(page.get_by_text("Asset US-CARD-0100 created as a draft.")).to_be_visible()
    expect(page.get_by_test_id("asset-status")).to_have_text("draft")

    page.get_by_label("In review (sent to MLR)").check()
    page.get_by_role("button", name="Record status").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("in review")

    future = (timezone.now() + dt.timedelta(days=180)).date().isoformat()
    page.get_by_label("Approved by MLR (e-signature)").check()
    page.get_by_label(re.compile("Approval expires on")).fill(future)
    page.get_by_label(re.compile("Re-enter your password")).fill(PASSWORD)
    page.get_by_role("button", name="Record status").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("approved")
    expect(page.get_by_test_id("asset-expiry")).to_contain_text(future)
    shot("compliance-asset-approved")

    # Brand proposes it for the cardio segment; compliance approves the mapping.
    asset = ContentAsset.objects.get(code="US-CARD-0100")
    mapping = propose_mapping(
        user=world.users.author, asset=asset, segment=world.active.segment, rationale="HF"
    )
    page.goto(f"{live_server.url}/mappings/{mapping.pk}/")
    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("On label.")
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign decision").click()
    expect(page.get_by_text(re.compile("US-CARD-0100 → cardio approved"))).to_be_visible()

    page.goto(f"{live_server.url}/content/US-CARD-0100/")
    page.get_by_label(re.compile("Withdrawn")).check()
    page.get_by_label(re.compile("Reason")).fill("Label update pending")
    page.get_by_label(re.compile("Re-enter your password")).fill(PASSWORD)
    page.get_by_role("button", name="Record status").click()
    expect(page.get_by_test_id("asset-status")).to_have_text("withdrawn")
    used = page.get_by_test_id("asset-mappings")
    expect(used).to_contain_text("revoked")
    expect(used).to_contain_text("withdrawn: Label update pending")
    history = page.get_by_test_id("asset-history")
    for step in ("created", "sent for MLR review", "approved", "withdrawn"):
        expect(history).to_contain_text(step)
    expect(page.get_by_role("radio", name=re.compile("Approved"))).to_have_count(0)
    shot("compliance-asset-withdrawn")
    assert ContentMapping.objects.get(pk=mapping.pk).state == "revoked"


def test_brand_imports_builds_submits_and_reads_the_outcome_in_the_inbox(
    world, page, live_server, login, shot, tmp_path
):
    npi = valid_npi(4242)
    upload = tmp_path / "new-hcps.csv"
    upload.write_text(
        f"npi,first_name,last_name,specialty,state,territory\n{npi},Nia,Okafor,cardiology,NY,T001\n"
    )
    login("author")
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Kind of data").select_option("customers")
    page.locator("input#file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and check").click()
    counts = page.get_by_test_id("import-counts")
    expect(counts).to_contain_text("New")
    assert not Customer.objects.filter(npi=npi).exists()
    shot("brand-import-checked")
    page.get_by_role("button", name=re.compile("Confirm and import 1 rows")).click()
    expect(page.get_by_test_id("import-state")).to_have_text("succeeded")
    assert Customer.objects.filter(npi=npi).exists()

    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_label("Key").fill("ny-cardio")
    page.get_by_label("Name").fill("NY cardiologists")
    page.get_by_role("button", name="Add field condition to this group").first.click()
    condition = page.locator("[data-rule-editor][data-name=entry_rule] .rb-cond").last
    condition.get_by_label("Field").select_option("specialty")
    condition.get_by_label("Operator").select_option("eq")
    page.locator("[data-rule-editor][data-name=entry_rule] .rb-cond").last.get_by_label(
        "Value"
    ).select_option("cardiology")
    expect(page.get_by_test_id("preview-count")).to_have_text("5")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft version 1 saved.")).to_be_visible()
    page.get_by_role("button", name="Submit v1 for review").click()
    expect(page.get_by_text("Version 1 submitted for review.")).to_be_visible()
    quiet(page)  # the services below write from this thread

    # Access rejects it; compliance decides the brand's mapping proposal.
    version = Segment.objects.get(key="ny-cardio").versions.get(number=1)
    governance.sign_version(
        user=world.users.access,
        version=version,
        team="access",
        decision="reject",
        comment="Restrict to NY first",
        password=PASSWORD,
    )
    decide_world_mapping(world, "reject", "Dosing guide is for specialists")
    page.goto(f"{live_server.url}/dashboard/")
    inbox = page.get_by_test_id("inbox")
    expect(inbox.get_by_test_id("inbox-rejected")).to_contain_text("Restrict to NY first")
    expect(inbox.get_by_test_id("inbox-decided")).to_contain_text("Dosing guide is for specialists")
    expect(inbox.get_by_test_id("inbox-imports")).to_contain_text("new-hcps.csv")
    shot("brand-inbox")

    inbox.get_by_test_id("inbox-rejected").get_by_role("link").first.click()
    expect(page.get_by_test_id("rejection")).to_contain_text("Restrict to NY first")
    page.goto(f"{live_server.url}/segments/cardio/")
    expect(page.get_by_test_id("segment-content")).to_contain_text(
        "Dosing guide is for specialists"
    )
    shot("brand-segment-content-panel")


def test_reviewer_reads_the_plain_english_diff_with_impact_and_signs(
    world, page, live_server, login, shot
):
    segments.segment_update(
        user=world.users.author,
        segment=world.active.segment,
        entry_rule={"all": [CARDIOLOGY, {"field": "state", "op": "eq", "value": "NY"}]},
    )
    version = world.active.segment.versions.get(number=2)
    governance.submit_version(user=world.users.author, version=version)

    login("accesssigner")
    page.goto(f"{live_server.url}/reviews/cardio/v2/")
    after = page.get_by_test_id("diff-1")
    expect(after.locator("li.cond-added")).to_contain_text("state is NY")
    expect(after.locator("li.cond-same").first).to_contain_text("specialty is cardiology")
    expect(page.get_by_test_id("impact-dropped")).to_have_text("drop 2")
    expect(page.get_by_test_id("impact-added")).to_have_text("add 0")
    expect(page.get_by_test_id("impact")).to_contain_text("Dropped by territory")
    expect(page.locator("pre.diff")).to_be_hidden()  # the JSON stays behind a disclosure
    shot("reviewer-readable-diff")

    page.get_by_label("Team you sign for").select_option("access")
    page.get_by_label("Approve").check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_text("You approved cardio v2 for the access team.")).to_be_visible()
    assert Signature.objects.filter(version=version, team="access").exists()


def _download_rows(page, link) -> list[dict]:
    with page.expect_download() as info:
        link.click()
    text = open(info.value.path(), encoding="utf-8").read()
    return list(csv.DictReader(io.StringIO(text)))


def test_field_lead_exports_a_list_in_the_on_screen_order(world, page, live_server, login, shot):
    for first in ("Zoe", "Adam", "Adam"):
        CustomerFactory(
            specialty="cardiology", territory_id="T001", last_name="Aaronson", first_name=first
        )
    segments.recompute_version(version=world.active)
    login("fieldlead")
    page.goto(f"{live_server.url}/territories/T001/?segment=cardio")
    table = page.locator("section[aria-labelledby=members-h] table")
    on_screen = [t.strip() for t in table.locator("tbody tr td:first-child").all_inner_texts()]
    rows = _download_rows(page, page.get_by_role("link", name="CSV", exact=True))
    assert [r["npi"] for r in rows] == on_screen
    assert on_screen[0] != on_screen[1]
    shot("field-lead-member-order")
