"""Every HTML page of the product as every role that may open it, with axe-core: no serious
or critical WCAG 2.1 A/AA violation. The list of pages is checked against the URLconf, so a
new page without a visit here (or a reason in NOT_PAGES) fails. The field lead's pages are
visited on a 375 px phone: nothing off-screen, no word broken across lines."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import AccountFactory, valid_npi
from tests.pages.a11y import axe_problems, broken_words, off_screen

from .conftest import PASSWORD

ROLES = ("brand", "access", "medical", "compliance", "field_lead", "admin")
USERS = {
    "brand": "author",
    "access": "accesssigner",
    "medical": "medicalsigner",
    "compliance": "compliance",
    "field_lead": "fieldlead",
    "admin": "admin1",
}

# URL names that answer something other than a page a person opens, and why.
NOT_PAGES = {
    "favicon": "an icon",
    "health": "answers 500 while a check fails (here the test's audit anchor); its page in words "
    "is tested in tests/test_operations.py",
    "api-schema": "the OpenAPI document (YAML)",
    "api-docs": "Swagger UI, a third-party page",
    "api-redoc": "ReDoc, a third-party page",
    "accounts:logout": "POST only",
    "accounts:sso_login": "a redirect to the identity provider (404 with single sign-on off)",
    "accounts:sso_callback": "the identity provider's redirect back (404 with single sign-on off)",
    "customers:import_template": "a CSV file",
    "customers:import_progress": "htmx fragment of the import page",
    "customers:import_confirm": "POST only",
    "segmentation:home": "a redirect to the role's first page",
    "segmentation:rule_preview": "POST only (htmx fragment of the rule builder)",
    "segmentation:segment_recompute": "POST only",
    "segmentation:segment_backtest": "POST only (htmx fragment of the segment page)",
    "content:mapping_propose": "POST only",
    "content:asset_edit": "POST only",
    "content:asset_status": "POST only",
    "content:segment_content_panel": "htmx fragment of the segment page",
    "governance:inbox": "htmx fragment of the dashboard",
    "governance:segment_submit": "POST only",
    "governance:segment_activate": "POST only",
    "governance:segment_retire": "POST only",
    "governance:review_overlap": "htmx fragment of the review page",
    "governance:review_impact": "htmx fragment of the review page",
    "field:territory_export": "a CSV file",
    "discovery:describe": "POST only (htmx fragment of the discovery page)",
    "discovery:personas": "POST only (htmx fragment of the discovery page)",
    "discovery:task": "htmx fragment of the discovery page",
    "discovery:differentiators": "htmx fragment of the discovery page",
    "activation:publications_panel": "htmx fragment of the segment page",
    "activation:publish": "POST only",
    "activation:holdout_power": "htmx fragment of the segment page",
    "activation:withdrawal_preview": "htmx fragment of the asset page",
    "activation:publication_action": "POST only",
}
# Prefixes served by others: the REST API (JSON) and Django's own admin site.
NOT_PAGE_PREFIXES = ("api/v1/", "admin/")


def _pages(objects) -> dict[str, list[str]]:
    """URL name -> the addresses that open it with real objects."""
    return {
        "accounts:login": ["/accounts/login/"],
        "accounts:no_pages": ["/accounts/no-pages/"],
        "accounts:api_token": ["/accounts/api-token/"],
        "help": ["/help/"],
        "help_guide": [
            f"/help/{slug}/"
            for slug in ("brand", "reviewer", "compliance", "field-lead", "admin", "imports")
        ],
        "customers:import_list": ["/imports/"],
        "customers:import_detail": [f"/imports/{objects.import_run}/"],
        "segmentation:dashboard": ["/dashboard/"],
        "segmentation:segment_list": ["/segments/"],
        "segmentation:segment_new": ["/segments/new/"],
        "segmentation:segment_detail": ["/segments/cardio/", "/segments/endo/"],
        "segmentation:account_detail": [f"/organizations/{objects.account}/"],
        "segmentation:customer_detail": [f"/hcps/{objects.npi}/"],
        "content:asset_list": ["/content/"],
        "content:asset_new": ["/content/new/"],
        "content:asset_import": ["/content/import/"],
        "content:asset_detail": ["/content/US-CARD-0042/"],
        "content:mapping_list": ["/mappings/"],
        "content:mapping_detail": [f"/mappings/{objects.mapping}/"],
        "governance:audit_list": ["/audit/"],
        "governance:inbox_page": ["/inbox/"],
        "governance:review_list": ["/reviews/"],
        "governance:review_detail": ["/reviews/endo/v1/", "/reviews/cardio/v1/"],
        "field:territory_list": ["/territories/"],
        "field:territory_detail": ["/territories/T001/", "/territories/T001/?segment=cardio"],
        "discovery:home": ["/discovery/"],
        "activation:destination_list": ["/destinations/"],
        "activation:delivery_log": ["/deliveries/"],
    }


def _url_names(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name) of every pattern in the URLconf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _url_names(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            yield route, f"{namespace}{entry.name}"


def test_every_url_is_visited_or_said_not_to_be_a_page():
    names = {name for route, name in _url_names() if not route.startswith(NOT_PAGE_PREFIXES)}
    pages = set(_pages(SimpleNamespace(import_run=1, account="A", npi="1", mapping=1)))
    assert names - pages - set(NOT_PAGES) == set(), "pages without an accessibility visit"
    assert (pages | set(NOT_PAGES)) - names == set(), "names no longer in the URLconf"
    assert pages.isdisjoint(NOT_PAGES)


@pytest.fixture
def objects(world, settings, tmp_path):
    """The world plus an organization, an HCP and the brand manager's import report."""
    settings.MEDIA_ROOT = tmp_path
    account = AccountFactory(account_id="ACC-NE-1", name="Boston General")
    client = Client()
    client.force_login(world.users.author)
    npi = valid_npi(90)
    csv = f"npi,first_name,last_name,specialty\n{npi},Ada,Byron,endocrinology\n".encode()
    response = client.post(
        "/imports/",
        {"kind": "customers", "file": SimpleUploadedFile("hcps.csv", csv, "text/csv")},
    )
    return SimpleNamespace(
        world=world,
        import_run=int(response["Location"].rstrip("/").rsplit("/", 1)[1]),
        account=account.account_id,
        npi=world.customers[4].npi,
        mapping=world.mapping.pk,
    )


def test_every_page_opens_for_some_role(objects, page_client):
    """No page in the list is skipped by the browser test below for want of a reader."""
    clients = {role: page_client(getattr(objects.world.users, _attr(role))) for role in ROLES}
    unread = [
        url
        for urls in _pages(objects).values()
        for url in urls
        if url not in ("/accounts/no-pages/", "/accounts/login/")
        and all(clients[role].get(url).status_code != 200 for role in ROLES)
    ]
    assert unread == []


def _attr(role: str) -> str:
    return {"field_lead": "field", "brand": "author"}.get(role, role)


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible_to_every_role(objects, browser, live_server, role):
    """One browser context per role; a field lead on a 375 x 740 phone."""
    phone = role == "field_lead"
    viewport = {"width": 375, "height": 740} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    page.goto(f"{live_server.url}/accounts/login/")
    problems["/accounts/login/"] = axe_problems(page)
    page.get_by_label("Username").fill(USERS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    opened = []
    refusals: set[str] = set()  # a refusal or "not found" page is checked once per title
    for name, urls in [*_pages(objects).items(), ("not found", ["/no-such-page/"])]:
        for url in urls:
            if name == "accounts:login":
                continue
            response = page.goto(f"{live_server.url}{url}")
            if page.url != f"{live_server.url}{url}":
                continue
            if response.status != 200:
                if response.status not in (403, 404) or page.title() in refusals:
                    continue
                refusals.add(page.title())
            else:
                opened.append(url)
            found = axe_problems(page)
            if phone:
                if (wider := off_screen(page)) > 0:
                    found.append(f"{wider}px off-screen at 375 px")
                if words := broken_words(page):
                    found.append(f"words broken across lines: {sorted(set(words))[:8]}")
            if found:
                problems[url] = found
    if not phone:
        # The role's main pages (its navigation) on a 375 px phone too.
        main_pages = page.locator("nav[aria-label=Main] a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        page.set_viewport_size({"width": 375, "height": 740})
        for url in main_pages:
            page.goto(f"{live_server.url}{url}")
            page.wait_for_load_state("networkidle")
            found = []
            if (wider := off_screen(page)) > 0:
                found.append(f"{wider}px off-screen at 375 px")
            if words := broken_words(page):
                found.append(f"words broken across lines at 375 px: {sorted(set(words))[:8]}")
            if found:
                problems[f"{url} (phone)"] = found
    context.close()
    assert opened, f"{role} opened no page"
    report = [f"{url}:\n  " + "\n  ".join(found) for url, found in problems.items() if found]
    assert not report, f"{role}:\n" + "\n".join(report)
