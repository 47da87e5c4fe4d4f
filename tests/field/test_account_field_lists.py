"""Account segments in governance and the field: content mappings with their guards, the
territory's account segments with counts and content, "accounts in my territory" and
their CSV export (account_id, safe for spreadsheets)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Territory
from content.models import ContentMapping
from customers.models import Account
from field.selectors import territory_overview
from field.views import ACCOUNT_EXPORT_COLUMNS
from segmentation.models import AccountMembershipSpell
from segmentation.services import recompute_version
from tests.factories import TerritoryFactory
from tests.factories.customers import AccountFactory, CustomerFactory
from tests.governance.support import PASSWORD, active_segment, asset

pytestmark = pytest.mark.django_db

HOSPITALS = {"field": "account_type", "op": "eq", "value": "hospital"}


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


@pytest.fixture
def systems(make_user):
    """An account segment of hospitals signed off to active: two in NE-01, one in SW-02."""
    ne, sw = TerritoryFactory(code="NE-01"), TerritoryFactory(code="SW-02")
    AccountFactory(account_id="H-NE-1", name="Bay Hospital", territory=ne, state="MA")
    AccountFactory(account_id="H-NE-2", name='=HYPERLINK("http://x")', territory=ne)
    AccountFactory(account_id="H-SW-1", name="Desert Hospital", territory=sw)
    AccountFactory(account_id="PAY-NE", account_type="payer", territory=ne)
    version = active_segment(
        make_user, "systems", unit="account", entry_rule=HOSPITALS, indications=["heart_failure"]
    )
    recompute_version(version=version)
    return version


def propose(user, code="US-CARD-0042"):
    return api(user).post(
        "/api/v1/mappings/",
        {"asset": code, "segment": "systems", "rationale": "KAM call plan"},
        format="json",
    )


def approve(make_user, code="US-CARD-0042") -> None:
    mapping_id = propose(make_user("brand"), code).json()["id"]
    response = api(make_user("compliance")).post(
        f"/api/v1/mappings/{mapping_id}/decision/",
        {"decision": "approve", "comment": "MLR ok", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_content_is_mapped_to_an_account_segment_with_a_signature(make_user, systems):
    asset()
    approve(make_user)
    mapping = ContentMapping.objects.get()
    assert (mapping.segment.key, mapping.state) == ("systems", "approved")
    assert mapping.signed_content_hash == systems.content_hash


@pytest.mark.parametrize(
    "fields, guard",
    [
        ({"mlr_status": "draft"}, "guard 1:"),
        ({"audience": "patient"}, "guard 2:"),
        ({"intent": "medical_education"}, "guard 3:"),
        ({"indications": ["heart_failure", "hypertension"]}, "guard 4:"),
    ],
)
def test_the_guards_refuse_content_for_an_account_segment(make_user, systems, fields, guard):
    asset(**fields)
    response = propose(make_user("brand"))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["path"] == "asset" and error["message"].startswith(guard)
    assert not ContentMapping.objects.exists()


def test_the_field_api_lists_account_segments_with_accounts_here_and_content(make_user, systems):
    asset()
    approve(make_user)
    lead = make_user("field_lead", territories=["NE-01"])
    body = api(lead).get("/api/v1/territories/NE-01/segments/").json()
    (row,) = body["results"]
    assert (row["key"], row["unit"], row["member_count"]) == ("systems", "account", 2)
    assert [a["code"] for a in row["assets"]] == ["US-CARD-0042"]


def test_members_api_filters_accounts_by_territory(make_user, systems):
    body = api(make_user("brand")).get("/api/v1/segments/systems/members/?territory=NE-01").json()
    assert [m["account_id"] for m in body["results"]] == ["H-NE-1", "H-NE-2"]


def lead_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("field_lead", territories=["NE-01"]))
    return client


def test_accounts_in_my_territory_export_as_csv_safe_for_spreadsheets(make_user, systems):
    response = lead_client(make_user).get("/territories/NE-01/export.csv?segment=systems")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="NE-01-systems.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(ACCOUNT_EXPORT_COLUMNS) and rows[0][0] == "account_id"
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"H-NE-1", "H-NE-2"}  # not SW-02's, not the payer
    assert by_id["H-NE-1"][1:7] == ["Bay Hospital", "hospital", "MA", "", "NE-01", "systems"]
    assert by_id["H-NE-2"][1] == '\'=HYPERLINK("http://x")'  # never run as a formula
    assert by_id["H-NE-1"][7].endswith("Z")


def test_the_territory_page_lists_an_account_segments_accounts(make_user, systems):
    body = lead_client(make_user).get("/territories/NE-01/?segment=systems").content.decode()
    assert 'data-testid="territory-member-accounts"' in body
    assert "H-NE-1" in body and "H-SW-1" not in body
    assert "export.csv?segment=systems" in body
    searched = lead_client(make_user).get("/territories/NE-01/?segment=systems&q=bay")
    assert "H-NE-1" in searched.content.decode()
    assert "H-NE-2" not in searched.content.decode().split("territory-member-accounts")[1]


@pytest.fixture
def mixed(make_user, systems):
    """Beside ``systems``: an active customer segment of cardiologists, three in NE-01 and
    one in SW-02, all affiliated with Desert Hospital (SW-02). H-NE-1 entered ``systems``
    ten days ago, so only H-NE-2 is new this week."""
    ne, sw = Territory.objects.get(code="NE-01"), Territory.objects.get(code="SW-02")
    desert = Account.objects.get(pk="H-SW-1")
    for territory in (ne, ne, ne, sw):
        CustomerFactory(territory=territory, account=desert)
    recompute_version(version=active_segment(make_user, "cardio"))
    AccountMembershipSpell.objects.filter(version=systems, account_id="H-NE-1").update(
        entered_as_of=timezone.now() - dt.timedelta(days=10)
    )
    return systems


def test_the_territory_overview_counts_account_members_as_accounts_of_the_territory(mixed):
    overview = territory_overview(territories=list(Territory.objects.order_by("code")))
    rows = {
        o["territory"].code: [
            (s["key"], s["unit"], s["members"], s["new_this_week"]) for s in o["segments"]
        ]
        for o in overview
    }
    # Accounts by their own territory, never by their customers'; the payer is no hospital.
    assert rows == {
        "NE-01": [("cardio", "customer", 3, 3), ("systems", "account", 2, 1)],
        "SW-02": [("cardio", "customer", 1, 1), ("systems", "account", 1, 1)],
    }


def test_the_territory_list_says_what_each_number_counts_and_opens_its_list(make_user, mixed):
    client = lead_client(make_user)
    html = client.get("/territories/").content.decode()
    assert "counts its member customers whose territory this is" in html
    assert "its member accounts whose territory this is" in html
    row = html.split("?segment=systems")[1].split("</tr>")[0]
    assert '<span class="badge">accounts</span>' in row
    assert 'aria-label="2 member accounts of Systems here"' in html
    assert '<span class="small muted">accounts</span>' in html
    assert 'aria-label="3 member customers of Cardio here"' in html
    # Both numbers open the list they count: every member account, then the new one.
    assert 'href="/territories/NE-01/?segment=systems#members-h"' in html
    assert 'href="/territories/NE-01/?segment=systems&amp;new=1#members-h"' in html
    assert 'aria-label="1 new account this week in Systems"' in html
    every = client.get("/territories/NE-01/?segment=systems").content.decode()
    listed = every.split('data-testid="territory-member-accounts"')[1]
    assert "H-NE-1" in listed and "H-NE-2" in listed
    new = client.get("/territories/NE-01/?segment=systems&new=1").content.decode()
    listed = new.split('data-testid="territory-member-accounts"')[1]
    assert "H-NE-2" in listed and "H-NE-1" not in listed
