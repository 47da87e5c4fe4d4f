"""POST /api/v1/segments/{key}/backtest/: who would have been members at a past date
under a version's rules, compared with its history then; writes and sends nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from customers.models import Customer
from segmentation import services
from segmentation.models import Membership, MembershipChange, RecomputeRun
from tests.factories import CustomerFactory, UserFactory
from tests.factories.customers import AccountFactory

from .segments_support import DAY, account_member_ids, activate, make_segment

pytestmark = pytest.mark.django_db

HIGH = {"field": "decile", "op": "gte", "value": 8}


@pytest.fixture
def history():
    """Recomputed 10 days ago with a and b; then b fell below 8 and c rose to 9, and a
    recompute 2 days ago recorded that: a and c are members now."""
    a, b, c = (CustomerFactory(decile=d) for d in (9, 9, 2))
    version = activate(make_segment(UserFactory(roles=["brand"]), "bt", HIGH))
    now = timezone.now()
    services.recompute_version(version=version, as_of=now - 10 * DAY)
    Customer.objects.filter(pk=b.pk).update(decile=3)
    Customer.objects.filter(pk=c.pk).update(decile=9)
    services.recompute_version(version=version, as_of=now - 2 * DAY)
    return version, (a, b, c), now


def _written():
    return (
        Membership.objects.count(),
        MembershipChange.objects.count(),
        RecomputeRun.objects.count(),
    )


def test_backtest_between_two_runs_compares_with_the_history_then(history, client_for):
    version, (a, b, c), now = history
    before = _written()
    response = client_for("medical").post(
        "/api/v1/segments/bt/backtest/", {"as_of": (now - 5 * DAY).isoformat()}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Today's data under the rules: a and c; the history at that date: a and b.
    assert (body["count"], body["entered"], body["exited"]) == (2, 1, 1)
    assert body["history_count"] == 2
    assert {row["npi"] for row in body["sample"]} == {a.npi, c.npi}
    assert body["version"] == 1 and body["segment"] == "bt"
    assert _written() == before
    event = AuditEvent.objects.get(action="segment.backtested")
    assert event.object_id == "bt" and str(event.after["count"]) == "2"


def test_backtest_before_any_history_counts_everyone_as_entering(history, client_for):
    _, _, now = history
    response = client_for("brand").post(
        "/api/v1/segments/bt/backtest/", {"as_of": (now - 30 * DAY).isoformat()}, format="json"
    )
    body = response.json()
    assert (body["count"], body["entered"], body["exited"], body["history_count"]) == (2, 2, 0, 0)


def test_backtest_names_a_version(history, client_for):
    response = client_for("brand").post(
        "/api/v1/segments/bt/backtest/", {"as_of": "2026-01-01", "version": 7}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "version"


@pytest.mark.parametrize(
    "body",
    [{}, {"as_of": "0001-01-01T00:00:00Z"}, {"as_of": "9999-12-31T23:59:59Z"},
     {"as_of": "2100-01-01T00:00:00Z"}, {"as_of": "yesterday"}],
)  # fmt: skip
def test_backtest_refuses_a_missing_or_impossible_as_of(history, client_for, body):
    response = client_for("brand").post("/api/v1/segments/bt/backtest/", body, format="json")
    assert response.status_code == 400, response.content
    assert [e["path"] for e in response.json()["errors"]] == ["as_of"]


def test_backtest_needs_the_role_that_reads_members(history, client_for):
    response = client_for("field_lead").post(
        "/api/v1/segments/bt/backtest/", {"as_of": "2026-01-01"}, format="json"
    )
    assert response.status_code == 403


def _page_client(make_user):
    client = Client()
    client.force_login(make_user("brand"))
    return client


def test_the_segment_page_offers_a_past_date_as_a_backtest(history, make_user):
    client = _page_client(make_user)
    page = client.get("/segments/bt/").content.decode()
    assert 'data-testid="backtest-form"' in page and "As of a past date" in page
    before = _written()
    answer = client.post(
        "/segments/bt/backtest/",
        {"as_of": (timezone.now() - 5 * DAY).date().isoformat(), "version": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", "", answer.content.decode()).split())
    assert "2 customers would have been members" in text
    assert "1 more would have entered and 1 would have left" in text
    assert _written() == before


def test_the_page_backtest_refuses_an_impossible_date_in_words(history, make_user):
    answer = _page_client(make_user).post(
        "/segments/bt/backtest/", {"as_of": "9999-12-31"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 400
    assert "1900-01-01" in answer.content.decode()


def test_an_account_segment_is_backtested_by_its_accounts(client_for, make_user):
    """Accounts with a high-decile customer: H1 from the first run; H2 joins later."""
    h1, h2 = AccountFactory(account_id="H1"), AccountFactory(account_id="H2")
    CustomerFactory(account=h1, decile=9)
    late = CustomerFactory(account=h2, decile=2)
    rule = {"members": HIGH, "count": {"op": "gte", "value": 1}}
    version = activate(make_segment(make_user("brand"), "accts-bt", rule, unit="account"))
    now = timezone.now()
    services.recompute_version(version=version, as_of=now - 10 * DAY)
    Customer.objects.filter(pk=late.pk).update(decile=9)
    services.recompute_version(version=version, as_of=now - 2 * DAY)
    assert account_member_ids(version) == {"H1", "H2"}
    before = (_written(), version.account_spells.count())
    response = client_for("brand").post(
        "/api/v1/segments/accts-bt/backtest/", {"as_of": (now - 5 * DAY).isoformat()}, "json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Today's data under the rule: H1 and H2; the history at that date: H1.
    assert (body["count"], body["entered"], body["exited"], body["history_count"]) == (2, 1, 0, 1)
    assert {row["account_id"] for row in body["sample"]} == {"H1", "H2"}
    assert (_written(), version.account_spells.count()) == before
