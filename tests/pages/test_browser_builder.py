"""The rule builder's serialisation: nested groups, events, rx and segment references."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def entry_json(page) -> dict:
    return json.loads(page.locator("#id_entry_rule").input_value())


def test_builder_writes_nested_groups_events_rx_and_references(
    world, page, live_server, login, shot
):
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    root = page.locator("[data-rule-editor][data-name=entry_rule]")

    top = root.locator('[data-add-for="entry_rule"]')
    top.get_by_role("button", name="Add any condition to this group").click()
    any_group = root.locator('[data-path="entry_rule.all[0]"]')
    any_add = root.locator('[data-add-for="entry_rule.all[0]"]')
    any_add.get_by_role("button", name="Add event condition to this group").click()
    event = root.locator('[data-path="entry_rule.all[0].any[0]"]')
    event.get_by_label("Event channel").select_option("webinar")
    event.get_by_label("Event kind").select_option("attended")
    days = event.get_by_label("Within days (blank: all time)")
    days.fill("30")
    days.press("Tab")

    any_add.get_by_role("button", name="Add rx condition to this group").click()
    rx = root.locator('[data-path="entry_rule.all[0].any[1]"]')
    product = rx.get_by_label("Product (blank: all products)")
    product.fill("CARDIOZEN")
    product.press("Tab")
    rx.get_by_label("Metric").select_option("nrx")
    rx.get_by_label("sum comparison").select_option("gt")
    value = rx.get_by_label("sum value")
    value.fill("4")
    value.press("Tab")

    top.get_by_role("button", name="Add not condition to this group").click()
    root.locator('[data-path="entry_rule.all[1].not"]').get_by_role(
        "button", name="Add segment condition to this group"
    ).click()
    root.locator('[data-path="entry_rule.all[1].not.all[0]"]').get_by_label(
        "Segment"
    ).select_option("cardio")

    # Nobody has webinars or prescriptions in this world.
    expect(page.get_by_test_id("preview-count")).to_have_text("0")
    assert entry_json(page) == {
        "all": [
            {
                "any": [
                    {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 30},
                    {
                        "rx": {"product": "CARDIOZEN"},
                        "metric": "nrx",
                        "months": 3,
                        "sum": {"op": "gt", "value": 4},
                    },
                ]
            },
            {"not": {"all": [{"segment": "cardio"}]}},
        ]
    }
    shot("brand-rule-builder-nested")

    # Removing the ANY group leaves only the NOT group.
    any_group.get_by_role("button", name="Remove this group").first.click()
    assert entry_json(page) == {"all": [{"not": {"all": [{"segment": "cardio"}]}}]}


def test_json_view_edits_redraw_the_builder(world, page, live_server, login):
    login("author")
    page.goto(f"{live_server.url}/segments/new/")
    page.get_by_text("JSON view of the entry rule").click()
    page.locator("#id_entry_rule").fill(
        '{"any": [{"field": "specialty", "op": "in", "value": ["cardiology", "oncology"]}]}'
    )
    condition = page.locator('[data-path="entry_rule.any[0]"]')
    expect(condition.get_by_label("Operator")).to_have_value("in")
    expect(page.get_by_test_id("preview-count")).to_have_text("5")


def test_tour_of_every_page_renders_without_script_errors(world, page, live_server, login, shot):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login("admin1")
    for name, path in (
        ("admin-dashboard", "/dashboard/"),
        ("admin-segments", "/segments/"),
        ("admin-segment-detail", "/segments/cardio/"),
        ("admin-reviews", "/reviews/?all=1"),
        ("admin-content", "/content/"),
        ("admin-mappings", "/mappings/?state=all"),
        ("admin-audit", "/audit/"),
        ("admin-territories", "/territories/"),
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        shot(name)
    assert errors == []
