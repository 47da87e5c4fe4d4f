"""Each role's day in the browser, using only the links on the pages and the help they
offer, with axe-core (bundled by axe-playwright-python, no network) on every page
visited: no serious or critical violation. The field lead walks on a 375 px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.pages.a11y import assert_axe_clean as _axe_clean
from tests.pages.a11y import broken_words, off_screen
from tests.pages.browser import fill_new_segment

from .conftest import CARDIOLOGY, PASSWORD

pytestmark = pytest.mark.browser


class Walk:
    """Follows links by their names and checks every page it lands on."""

    def __init__(self, page, live_server, who: str, *, phone: bool = False):
        self.page, self.base, self.who, self.phone = page, live_server.url, who, phone
        self.visited: list[str] = []

    def start(self, username: str) -> None:
        self.page.goto(f"{self.base}/accounts/login/")
        _axe_clean(self.page, f"{self.who} login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.check()

    def check(self) -> None:
        _axe_clean(self.page, self.who)
        url = self.page.url.removeprefix(self.base)
        if self.phone:
            assert off_screen(self.page) <= 0, f"{url} is wider than the phone"
            assert broken_words(self.page) == [], f"{url} breaks words across lines"
        self.visited.append(url)

    def follow(self, name: str, *, within=None, exact: bool = False) -> None:
        scope = within if within is not None else self.page
        scope.get_by_role("link", name=name, exact=exact).first.click()
        self.check()

    def nav(self, name: str) -> None:
        self.follow(name, within=self.page.get_by_role("navigation", name="Main"), exact=True)

    def help(self) -> None:
        self.follow("How do I…?")
        expect(self.page.get_by_test_id("guide")).to_be_visible()

    def press(self, name: str, *, says: str) -> None:
        """Submit a form by its button; the page that answers says ``says``."""
        self.page.get_by_role("button", name=name).click()
        expect(self.page.get_by_text(says).first).to_be_visible()
        self.check()

    def sign(self, button: str, *, says: str) -> None:
        self.page.get_by_label("Approve").check()
        self.page.get_by_label("Comment").fill("Read and fine.")
        self.page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
        self.press(button, says=says)


def test_brand_day(world, page, live_server):
    walk = Walk(page, live_server, "brand")
    walk.start("author")
    assert walk.visited[-1] == "/dashboard/"
    walk.help()
    walk.nav("Inbox")
    walk.nav("Segments")
    walk.follow("cardio", exact=True)
    page.get_by_test_id("edit-panel").locator("summary").first.click()
    _axe_clean(page, "brand edit panel")
    walk.nav("Reviews")
    walk.nav("Discovery")
    walk.nav("Segments")
    walk.follow("New segment")
    ny = {"field": "state", "op": "eq", "value": "NY"}
    fill_new_segment(page, "hf-ny", "Heart failure in New York", {"all": [CARDIOLOGY, ny]})
    walk.press("Save draft", says="Draft version 1 saved.")
    walk.press("Submit v1 for review", says="Version 1 submitted for review.")
    walk.nav("Content")
    walk.nav("Imports")
    expect(page.get_by_test_id("import-templates")).to_contain_text("customers.csv")
    walk.follow("How do I prepare a file?")


def test_reviewer_day(world, page, live_server):
    walk = Walk(page, live_server, "reviewer")
    walk.start("accesssigner")
    walk.follow("Endocrinologists (version 1)", within=page.get_by_test_id("inbox"))
    expect(page.get_by_label("Password")).to_be_visible()
    # The impact's "why" opens the passage of the reviewers' guide that explains it.
    walk.follow("How membership works")
    expect(page).to_have_url(re.compile(r"/help/reviewer/#membership-and-the-exit-rule$"))
    walk.nav("Reviews")
    walk.follow("Review and sign")
    walk.sign("Sign version", says="You approved endo v1 for the access team.")
    walk.nav("Inbox")
    expect(page.get_by_role("link", name="Endocrinologists (version 1)")).to_have_count(0)
    walk.help()


def test_medical_day(world, page, live_server):
    walk = Walk(page, live_server, "medical")
    walk.start("medicalsigner")
    walk.nav("Inbox")
    walk.follow("Endocrinologists (version 1)", within=page.get_by_test_id("inbox"))
    expect(page.get_by_label("Password")).to_be_visible()
    walk.nav("Segments")
    walk.follow("cardio", exact=True)
    walk.help()


def test_compliance_day(world, page, live_server):
    walk = Walk(page, live_server, "compliance")
    walk.start("compliance")
    assert walk.visited[-1] == "/inbox/"
    walk.follow("Heart failure dosing guide (US-CARD-0042) for cardio")
    walk.sign("Sign decision", says="US-CARD-0042 → cardio approved")
    walk.nav("Inbox")
    walk.follow("expires on", within=page.get_by_test_id("inbox-expiring"))
    walk.help()
    walk.nav("Mappings")
    walk.nav("Content")
    walk.nav("Audit")


def test_field_lead_day_on_a_phone(world, browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    walk = Walk(page, live_server, "field lead", phone=True)
    walk.start("fieldlead")
    walk.follow("3 new customers this week in Cardiologists")
    expect(page.get_by_role("heading", name="New this week in cardio in T001")).to_be_visible()
    walk.follow("Show everyone")
    walk.follow("‹ Territories")
    walk.follow("T001", exact=True)
    export = page.get_by_role("link", name="CSV", exact=True).first
    box = export.bounding_box()
    assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 375
    walk.help()
    context.close()


def test_admin_day(world, page, live_server):
    walk = Walk(page, live_server, "admin")
    walk.start("admin1")
    for name in (
        "Inbox",
        "Segments",
        "Reviews",
        "Content",
        "Mappings",
        "Imports",
        "Territories",
        "Audit",
    ):
        walk.nav(name)
    walk.help()
    guide = page.get_by_test_id("guide")
    walk.follow("Destinations", within=guide, exact=True)
    walk.follow("Delivery log")
    walk.follow("Destinations", within=page.get_by_role("main"), exact=True)
    walk.help()
    walk.follow("health page", within=page.get_by_test_id("guide"))
    # The health page in the product's layout, with its navigation.
    expect(page.get_by_role("heading", name="System health")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
