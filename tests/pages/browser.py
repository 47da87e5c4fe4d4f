"""Browser test helpers shared by the page tests."""

from __future__ import annotations

import json

from playwright.sync_api import expect


def quiet(page) -> None:
    """Let the page's own requests finish, then leave it, before this thread writes.

    With SQLite the live server shares the test thread's one connection, so a
    service called from the test while a page request is in flight fails with
    "database table is locked". Call this before such a service call.
    """
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")


def fill_new_segment(page, key: str, name: str, rule: dict, unit="customer", rollup=None):
    """On /segments/new/: key, name, and the rule written in the builder's JSON view."""
    page.get_by_label("Key").fill(key)
    page.get_by_label("Name").fill(name)
    if unit != "customer":
        page.get_by_label("Unit").select_option(unit)
    if rollup:
        page.get_by_label("Rollup").select_option(rollup)
    page.locator("details", has_text="JSON view of the entry rule").locator("summary").click()
    page.locator("#id_entry_rule").fill(json.dumps(rule))


def save_draft(page) -> None:
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft version 1 saved.")).to_be_visible()
