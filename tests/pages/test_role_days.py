"""Each role's day in the browser, using only the links on the pages and the help they
offer, with axe-core (bundled by axe-playwright-python, no network) on every page
visited: no serious or critical violation. The field lead walks on a 375 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pages.a11y import assert_axe_clean as _axe_clean
from tests.pages.a11y import broken_words, off_screen

from .conftest import PASSWORD

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
    walk.nav("Content")
    walk.nav("Imports")
    expect(page.get_by_test_id("import-templates")).to_contain_text("customers.csv")
    walk.follow("How do I prepare a file?")


def test_reviewer_day(world, page, live_server):
    walk = Walk(page, live_server, "reviewer")
    walk.start("accesssigner")
    walk.follow("Endocrinologists (version 1)", within=page.get_by_test_id("inbox"))
    expect(page.get_by_label("Password")).to_be_visible()
    walk.help()
    walk.nav("Reviews")


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
    walk.follow("3 new this week in Cardiologists")
    expect(page.get_by_role("heading", name="New this week in cardio in T001")).to_be_visible()
    walk.follow("Show everyone")
    walk.follow("‹ Territories")
    walk.follow("T001", exact=True)
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
