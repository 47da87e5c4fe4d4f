"""Rule builder polish (the polish round): chips with search, readable labels, the sentence
live as you edit (docs/pages.md)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_multi_value_list_uses_chips_with_search(world, page, live_server, login, shot):
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_role("button", name="Add field condition to this group").first.click()
    condition = page.locator("[data-rule-editor][data-name=entry_rule] .rb-cond").last
    condition.get_by_label("Field").select_option("specialty")
    page.locator("[data-rule-editor][data-name=entry_rule] .rb-cond").last.get_by_label(
        "Operator"
    ).select_option("in")
    search = page.get_by_label("Add a value")
    search.fill("Cardiology")
    search.press("Enter")
    page.get_by_label("Add a value").fill("endocrinology")
    page.get_by_label("Add a value").press("Enter")
    expect(page.get_by_role("button", name="Remove Cardiology")).to_be_visible()
    expect(page.get_by_test_id("preview-count")).to_have_text("5")
    expect(page.get_by_test_id("preview-sentence")).to_contain_text("specialty is cardiology")
    rule = json.loads(page.locator("#id_entry_rule").input_value())
    assert rule["all"][0]["value"] == ["cardiology", "endocrinology"]
    page.get_by_role("button", name="Remove Cardiology").click()
    expect(page.get_by_test_id("preview-count")).to_have_text("1")
    shot("brand-rule-builder-chips")
