"""The /imports/ page offers the public files with the check-then-confirm step and the
report (docs/sources.md). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer, RxAnnualFact
from tests.customers import public_files as pf
from tests.factories import valid_npi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW, STRANGER = valid_npi(7001), valid_npi(7002)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.RX_TRACKED_PRODUCTS = ["CARDIOZEN"]


def test_brand_checks_then_confirms_nppes_and_partd_files(
    world, page, live_server, login, shot, tmp_path
):
    nppes = pf.write(
        tmp_path / "npidata_pfile.csv",
        pf.csv_bytes(pf.NPPES, [pf.individual(NEW), pf.deactivated(STRANGER)]),
    )
    login("author")
    page.goto(f"{live_server.url}/imports/")
    expect(page.get_by_label("Kind of data")).to_contain_text("nppes")
    page.get_by_label("Kind of data").select_option("nppes")
    page.locator("input#file").set_input_files(str(nppes))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("import-counts")).to_contain_text("Skipped")
    expect(page.get_by_test_id("import-skipped")).to_contain_text(
        "deactivated NPI not in the database: 1"
    )
    assert not Customer.objects.filter(npi=NEW).exists()  # the check writes nothing
    shot("brand-nppes-checked")
    page.get_by_role("button", name=re.compile("Confirm and import 2 rows")).click()
    expect(page.get_by_test_id("import-state")).to_have_text("succeeded")
    assert Customer.objects.get(npi=NEW).specialty == "cardiology"

    partd = pf.write(
        tmp_path / "partd.csv",
        pf.csv_bytes(
            pf.PARTD,
            [pf.prescription(NEW, "CARDIOZEN", "12.5"), pf.prescription(NEW, "OTHER", "3")],
        ),
    )
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("Kind of data").select_option("partd")
    page.locator("input#file").set_input_files(str(partd))
    page.get_by_role("button", name="Upload and check").click()
    # Without the year the file is refused at once, naming the field.
    expect(page.get_by_role("alert")).to_contain_text("give the data year")
    page.get_by_label("Kind of data").select_option("partd")
    page.get_by_label(re.compile("Data year")).fill("2024")
    page.locator("input#file").set_input_files(str(partd))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("import-skipped")).to_contain_text("brand not tracked: 1")
    shot("brand-partd-checked")
    page.get_by_role("button", name=re.compile("Confirm and import 2 rows")).click()
    expect(page.get_by_test_id("import-state")).to_have_text("succeeded")
    assert RxAnnualFact.objects.get().trx == 13
