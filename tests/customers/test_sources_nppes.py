"""The nppes kind: individuals become customers, organizations accounts (docs/sources.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.importing.layouts import NPPES_HEADER
from customers.models import Account, Customer, TaxonomyCode
from customers.services import import_file
from tests.customers import public_files as pf
from tests.factories import valid_npi

pytestmark = pytest.mark.django_db

A, B, C, ORG, GONE = (valid_npi(n) for n in (1, 2, 3, 4, 5))


def nppes(tmp_path, rows, name="npidata_pfile.csv"):
    return pf.write(tmp_path / name, pf.csv_bytes(pf.NPPES, rows))


def test_the_products_layout_is_the_published_one():
    assert NPPES_HEADER == pf.NPPES


def test_individuals_become_customers_and_organizations_accounts(tmp_path):
    rows = [
        pf.individual(A, credential="M.D., PH.D.", postal="021151234"),
        pf.individual(B, last="Skin", taxonomy="207N00000X", credential="FNP-C", state="NY"),
        pf.individual(C, taxonomy="101YM0800X", credential="LMHC", postal="K1A 0B1", state="ZZ"),
        pf.organization(ORG),
    ]
    result = import_file(kind="nppes", file=nppes(tmp_path, rows))
    assert (result.rows, result.created, result.updated, result.unchanged) == (4, 4, 0, 0)
    a = Customer.objects.get(npi=A)
    assert (a.first_name, a.last_name, a.credential, a.specialty) == (
        "Ada",
        "Heart",
        "MD",
        "cardiology",
    )
    assert (a.state, a.zip, a.taxonomy_code, a.active) == ("MA", "02115", "207RC0000X", True)
    b = Customer.objects.get(npi=B)
    assert (b.credential, b.specialty, b.state) == ("NP", "dermatology", "NY")
    c = Customer.objects.get(npi=C)
    # An unmapped taxonomy imports as other, and is counted; a foreign address has no state.
    assert (c.credential, c.specialty, c.state, c.zip) == ("other", "other", "", "")
    assert (
        result.report["notes"]["individuals whose primary taxonomy is unmapped (imported as other)"]
        == 1
    )
    org = Account.objects.get(account_id=ORG)
    assert (org.name, org.account_type, org.state, org.zip) == (
        "Boston Heart Clinic",
        "clinic",
        "MA",
        "02115",
    )


def test_the_primary_taxonomy_is_the_one_switched_y(tmp_path):
    row = pf.individual(A, taxonomy="207R00000X")
    row["Healthcare Provider Primary Taxonomy Switch_1"] = "N"
    row["Healthcare Provider Taxonomy Code_2"] = "207RC0000X"
    row["Healthcare Provider Primary Taxonomy Switch_2"] = "Y"
    import_file(kind="nppes", file=nppes(tmp_path, [row]))
    assert Customer.objects.get(npi=A).specialty == "cardiology"


def test_reimport_updates_in_place_and_reports_what_changed(tmp_path):
    rows = [pf.individual(A), pf.individual(B), pf.organization(ORG)]
    import_file(kind="nppes", file=nppes(tmp_path, rows))
    again = import_file(kind="nppes", file=nppes(tmp_path, rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    customer = Customer.objects.get(npi=A)
    customer.decile = 9  # the product's own data survives a re-import
    customer.save()
    rows[0] = pf.individual(A, last="Hart", postal="10001")
    rows[2] = pf.organization(ORG, name="Boston Heart Clinic LLC")
    changed = import_file(kind="nppes", file=nppes(tmp_path, rows))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2, 1)
    customer.refresh_from_db()
    assert (customer.last_name, customer.zip, customer.decile) == ("Hart", "10001", 9)
    assert Account.objects.get(account_id=ORG).name == "Boston Heart Clinic LLC"
    assert Customer.objects.count() == 2


def test_deactivated_npis_become_inactive_and_reactivated_ones_active(tmp_path):
    rows = [pf.individual(A), pf.individual(B), pf.organization(ORG)]
    import_file(kind="nppes", file=nppes(tmp_path, rows))
    later = [
        pf.deactivated(A, "03/01/2024"),
        pf.individual(B, deactivated="01/05/2020", reactivated="02/01/2021"),
        pf.deactivated(ORG, "04/01/2024"),
        pf.deactivated(GONE),
    ]
    result = import_file(kind="nppes", file=nppes(tmp_path, later))
    a = Customer.objects.get(npi=A)
    assert (a.active, a.deactivated_on) == (False, dt.date(2024, 3, 1))
    assert a.last_name == "Heart"  # the emptied record leaves the rest as it was
    assert Customer.objects.get(npi=B).active is True
    assert Account.objects.get(account_id=ORG).active is False
    assert result.skipped == 1
    assert result.report["skipped"] == {"deactivated NPI not in the database": 1}
    assert (result.updated, result.unchanged) == (2, 1)


def test_an_imported_taxonomy_mapping_wins_over_the_shipped_one(tmp_path):
    TaxonomyCode.objects.create(code="207RC0000X", specialty="internal_medicine")
    import_file(kind="nppes", file=nppes(tmp_path, [pf.individual(A)]))
    assert Customer.objects.get(npi=A).specialty == "internal_medicine"


def test_the_command_imports_nppes(tmp_path, capsys):
    from django.core.management import call_command

    call_command("import_data", "--kind", "nppes", str(nppes(tmp_path, [pf.individual(A)])))
    assert "1 created" in capsys.readouterr().out
    assert Customer.objects.filter(npi=A).exists()


def test_the_customer_api_shows_whether_an_npi_is_active(tmp_path, client_for):
    import_file(kind="nppes", file=nppes(tmp_path, [pf.individual(A, deactivated="03/01/2024")]))
    body = client_for("brand").get(f"/api/v1/customers/?npi={A}").json()
    (customer,) = body["results"]
    assert (customer["active"], customer["deactivated_on"]) == (False, "2024-03-01")
    assert customer["taxonomy_code"] == "207RC0000X"
