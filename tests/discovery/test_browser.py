"""The /discovery/ page in Debian's chromium: in-request (eager) and with workers (polling)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories.accounts import DEFAULT_PASSWORD

from .conftest import THREE_CONDITIONS, members_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, make_user) -> None:
    user = make_user("brand", username="disc-brand")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _describe(page, live_server) -> None:
    page.goto(f"{live_server.url}/discovery/")
    page.get_by_label("NPIs (one per line, or separated by commas)").fill(
        "\n".join(members_of(THREE_CONDITIONS))
    )
    page.get_by_role("button", name="Describe this list").click()


def test_describe_runs_in_the_request_without_workers(population, page, live_server, make_user):
    _sign_in(page, live_server, make_user)
    _describe(page, live_server)
    result = page.locator("#describe-result")
    expect(result).to_contain_text("specialty is cardiology or endocrinology", timeout=60_000)
    expect(result.get_by_role("link", name="Open as draft")).to_be_visible()


def test_with_workers_the_page_shows_progress_then_the_result(
    population, page, live_server, make_user, settings, monkeypatch
):
    from discovery.tasks import describe_task

    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(describe_task, "delay", lambda *args: queued.append(args))
    _sign_in(page, live_server, make_user)
    # Polls pass through a route handler, which sync Playwright runs only while the
    # test thread is inside a Playwright call: while the test runs the worker's task
    # below, polls wait in the browser instead of sharing SQLite's connection with it.
    page.route("**/discovery/tasks/**", lambda route: route.continue_())
    _describe(page, live_server)
    result = page.locator("#describe-result")
    expect(result.locator("progress")).to_be_visible()
    expect(result).to_contain_text("Waiting for a worker")
    describe_task(*queued[0])  # what the worker runs
    expect(result).to_contain_text("specialty is cardiology or endocrinology", timeout=30_000)
    expect(result.locator("progress")).to_have_count(0)


def test_personas_fill_the_page_width_without_overflow_at_1024_px(
    population, page, live_server, make_user
):
    page.set_viewport_size({"width": 1024, "height": 800})
    _sign_in(page, live_server, make_user)
    page.goto(f"{live_server.url}/discovery/")
    page.get_by_label("Number of personas (blank: chosen for you, 2–8)").fill("4")
    page.get_by_role("button", name="Find personas").click()
    table = page.locator("#personas-result table.personas")
    expect(table).to_be_visible(timeout=90_000)
    sizes = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, view: window.innerWidth,"
        " table: document.querySelector('table.personas').getBoundingClientRect().width,"
        " main: document.querySelector('main').getBoundingClientRect().width})"
    )
    assert sizes["doc"] <= sizes["view"], sizes
    assert sizes["table"] >= 0.85 * sizes["main"], sizes  # the full width, not half of it
    for button in page.locator("table.personas .p-action a").all():
        box = button.bounding_box()
        assert box["x"] + box["width"] <= sizes["view"]
    # Sizes never break; words in a rule are never split across lines.
    styles = page.evaluate(
        "() => ({size: [...document.querySelectorAll('table.personas .p-size')].map("
        "td => getComputedStyle(td).whiteSpace),"
        " rule: [...document.querySelectorAll('table.personas .p-rule')].map("
        "td => getComputedStyle(td).overflowWrap + ' ' + getComputedStyle(td).wordBreak)})"
    )
    assert styles["size"] and set(styles["size"]) == {"nowrap"}, styles
    assert set(styles["rule"]) == {"normal normal"}, styles
    # Labels wrap by word inside their column, never running into the sizes beside them.
    labels = page.evaluate(
        "() => [...document.querySelectorAll('table.personas .p-label')].map(th => ({"
        " wrap: getComputedStyle(th).whiteSpace, over: th.scrollWidth - th.clientWidth}))"
    )
    assert labels and all(x["wrap"] == "normal" and x["over"] <= 1 for x in labels), labels
