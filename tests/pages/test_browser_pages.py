"""The four journeys of the brief, driven in Debian's chromium against the live server.

Each test saves a screenshot under tests/artifacts/.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from content.models import ContentMapping
from governance.models import Signature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def preview_count(page):
    return page.get_by_test_id("preview-count")


def last_condition(page):
    return page.locator("[data-rule-editor][data-name=entry_rule] .rb-cond").last


def test_brand_manager_builds_two_condition_rule_and_sees_preview_change(
    world, page, live_server, login, shot
):
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_label("Key").fill("cardio-high")
    page.get_by_label("Name").fill("High-decile cardiologists")
    # An empty ALL group matches everyone: the six customers.
    expect(preview_count(page)).to_have_text("6")

    page.get_by_role("button", name="Add field condition to this group").first.click()
    condition = last_condition(page)
    condition.get_by_label("Field").select_option("specialty")
    condition.get_by_label("Operator").select_option("eq")
    last_condition(page).get_by_label("Value").select_option("cardiology")
    expect(preview_count(page)).to_have_text("4")

    page.get_by_role("button", name="Add field condition to this group").first.click()
    condition = last_condition(page)
    condition.get_by_label("Field").select_option("decile")
    last_condition(page).get_by_label("Operator").select_option("gte")
    value = last_condition(page).get_by_label("Value")
    value.fill("7")
    value.press("Tab")
    expect(preview_count(page)).to_have_text("3")
    shot("brand-rule-builder-preview")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft version 1 saved.")).to_be_visible()
    expect(page.locator(".sentence").first).to_contain_text(re.compile(r"decile.* is at least 7"))
    shot("brand-segment-saved")


def test_builder_shows_validation_error_at_the_condition(world, page, live_server, login, shot):
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_text("JSON view of the entry rule").click()
    page.locator("#id_entry_rule").fill(
        '{"all": [{"field": "specialty", "op": "eq", "value": "cardiology"},'
        ' {"field": "decile", "op": "gte", "value": "high"}]}'
    )
    error = page.locator('[data-path="entry_rule.all[1]"] .rb-error-msg')
    # The message sits at the condition, in words, without the JSON path.
    expect(error).to_contain_text("should be a number")
    expect(error).not_to_contain_text("entry_rule.all[1]")
    expect(page.locator('[data-path="entry_rule.all[0]"] .rb-error-msg')).to_have_count(0)
    shot("brand-rule-builder-error")


def test_reviewer_signs_with_password(world, page, live_server, login, shot):
    login("accesssigner")
    page.goto(f"{live_server.url}/reviews/")
    page.get_by_role("link", name=re.compile("Review and sign")).click()
    expect(page.get_by_role("heading", name=re.compile("Endocrinologists"))).to_be_visible()
    expect(page.locator(".sentence").first).to_contain_text("specialty is endocrinology")
    page.get_by_label("Team you sign for").select_option("access")
    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("Access criteria are fine.")
    page.get_by_label("Re-enter your password to sign").fill("wrong password")
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert not Signature.objects.filter(version=world.in_review, team="access").exists()
    shot("reviewer-wrong-password")

    page.get_by_label("Approve").check()
    page.get_by_label("Re-enter your password to sign").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_text("You approved endo v1 for the access team.")).to_be_visible()
    signature = Signature.objects.get(version=world.in_review, team="access")
    assert signature.signer_username == "accesssigner"
    shot("reviewer-signed")


def test_compliance_approves_a_mapping(world, page, live_server, login, shot):
    login("compliance")
    page.goto(f"{live_server.url}/mappings/")
    expect(page.get_by_text("US-CARD-0042").first).to_be_visible()
    shot("compliance-mapping-queue")
    page.get_by_role("link", name="Decide").click()
    expect(page.get_by_role("heading", name="Guards, checked now")).to_be_visible()
    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("On label, approved asset.")
    page.get_by_label("Re-enter your password to sign").fill("correct-horse-battery-staple")
    shot("compliance-mapping-decide")
    page.get_by_role("button", name="Sign decision").click()
    expect(page.get_by_text(re.compile("US-CARD-0042 → cardio approved"))).to_be_visible()
    assert ContentMapping.objects.get(pk=world.mapping.pk).state == "approved"


def _download_rows(page, link) -> list[dict]:
    with page.expect_download() as info:
        link.click()
    text = open(info.value.path(), encoding="utf-8").read()
    return list(csv.DictReader(io.StringIO(text)))


def test_field_lead_exports_csv_and_is_refused_another_territory(
    world, page, live_server, login, shot
):
    login("fieldlead")
    page.goto(f"{live_server.url}/territories/")
    page.get_by_role("link", name="T001").click()
    expect(page.get_by_role("heading", name=re.compile("Territory T001"))).to_be_visible()
    shot("field-lead-territory")

    rows = _download_rows(page, page.get_by_role("link", name="CSV", exact=True))
    expected = {c.npi for c in world.customers[:3]}  # T001 cardiologists, opt-out included
    assert {r["npi"] for r in rows} == expected
    email_rows = _download_rows(page, page.get_by_role("link", name="Email CSV"))
    assert {r["npi"] for r in email_rows} == expected - {world.customers[2].npi}

    response = page.goto(f"{live_server.url}/territories/T002/")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("T002 is not assigned to you")
    shot("field-lead-refused")
