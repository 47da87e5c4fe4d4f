"""Segment API: preview, recompute, members (JSON and CSV) and history."""

from __future__ import annotations

import csv
import io

import pytest

from customers.models import Customer
from segmentation.models import RecomputeRun
from tests.factories import CustomerFactory, InteractionFactory

from .segments_support import AS_OF, DAY, EXAMPLE_ENTRY, EXAMPLE_EXIT, activate, make_segment

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments/"
HIGH = {"field": "decile", "op": "gte", "value": 8}
AS_OF_ISO = "2026-03-01T00:00:00Z"


@pytest.fixture
def brand_client(client_for):
    return client_for("brand")


@pytest.fixture
def example_customers():
    """One customer matching docs/rules.md's example at AS_OF, one in CA (excluded)."""
    inside = CustomerFactory(specialty="cardiology", decile=8, state="NY", territory=None)
    InteractionFactory(customer=inside, occurred_at=AS_OF - DAY, channel="webinar", kind="attended")
    in_ca = CustomerFactory(specialty="cardiology", decile=8, state="CA")
    InteractionFactory(customer=in_ca, occurred_at=AS_OF - DAY, channel="webinar", kind="attended")
    return inside, in_ca


def test_rules_example_end_to_end(brand_client, example_customers):
    inside, _ = example_customers
    created = brand_client.post(
        SEGMENTS,
        {
            "key": "example",
            "name": "Example",
            "purpose": "promotional",
            "entry_rule": EXAMPLE_ENTRY,
            "exit_rule": EXAMPLE_EXIT,
        },
        format="json",
    )
    assert created.status_code == 201
    result = brand_client.post(f"{SEGMENTS}example/recompute/", {"as_of": AS_OF_ISO}, format="json")
    assert result.status_code == 200
    assert (result.json()["entered"], result.json()["member_count"]) == (1, 1)
    members = brand_client.get(f"{SEGMENTS}example/members/").json()
    assert members["count"] == 1
    assert members["results"] == [{"npi": inside.npi, "entered_at": AS_OF_ISO}]
    detail = brand_client.get(f"{SEGMENTS}example/").json()
    assert detail["versions"][0]["member_count"] == 1


def test_preview_counts_samples_and_reports_missing(brand_client, example_customers):
    inside, _ = example_customers
    CustomerFactory(specialty="oncology", decile=None, state="")
    response = brand_client.post(
        f"{SEGMENTS}preview/", {"entry_rule": EXAMPLE_ENTRY, "as_of": AS_OF_ISO}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["npi"] for row in body["sample"]] == [inside.npi]
    assert {"npi", "first_name", "last_name", "specialty", "state"} <= set(body["sample"][0])
    # one of three customers has no decile and no state
    assert body["missing"]["decile"] == pytest.approx(1 / 3, abs=1e-3)
    assert body["missing"]["state"] == pytest.approx(1 / 3, abs=1e-3)
    assert body["missing"]["specialty"] == 0
    assert not RecomputeRun.objects.exists()


def test_preview_with_exit_rule_counts_entry_minus_exit(brand_client):
    CustomerFactory(decile=9, state="NY")
    CustomerFactory(decile=9, state="CA")
    response = brand_client.post(
        f"{SEGMENTS}preview/",
        {"entry_rule": HIGH, "exit_rule": {"field": "state", "op": "eq", "value": "CA"}},
        format="json",
    )
    assert response.json()["count"] == 1


def test_preview_with_bad_rule_answers_400(brand_client):
    response = brand_client.post(
        f"{SEGMENTS}preview/", {"entry_rule": {"field": "decile", "op": "gte"}}, format="json"
    )
    assert response.status_code == 400
    assert all(e["path"].startswith("entry_rule") for e in response.json()["errors"])


def test_preview_needs_entry_rule(brand_client):
    response = brand_client.post(f"{SEGMENTS}preview/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "entry_rule"


def test_recompute_defaults_to_the_active_version(brand_client):
    CustomerFactory(decile=9)
    active = activate(make_segment(brand_client.user, "both", HIGH))
    from segmentation import services

    services.segment_update(user=brand_client.user, segment=active.segment, name="Next")
    body = brand_client.post(f"{SEGMENTS}both/recompute/", {}, format="json").json()
    assert body["version"] == 1
    drafted = brand_client.post(f"{SEGMENTS}both/recompute/", {"version": 2}, format="json")
    assert drafted.json()["version"] == 2


def test_recompute_unknown_version_answers_400(brand_client):
    make_segment(brand_client.user, "one", HIGH)
    response = brand_client.post(f"{SEGMENTS}one/recompute/", {"version": 7}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "version"


def test_recompute_bad_as_of_answers_400(brand_client):
    make_segment(brand_client.user, "one", HIGH)
    response = brand_client.post(f"{SEGMENTS}one/recompute/", {"as_of": "yesterday"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "as_of"


def test_recompute_unknown_segment_is_404(brand_client):
    assert brand_client.post(f"{SEGMENTS}nope/recompute/", {}, format="json").status_code == 404


def test_readers_cannot_recompute(client_for, make_user):
    make_segment(make_user("brand"), "one", HIGH)
    response = client_for("medical").post(f"{SEGMENTS}one/recompute/", {}, format="json")
    assert response.status_code == 403


def test_members_csv_streams_npi_and_entered_at(brand_client):
    a = CustomerFactory(decile=9)
    b = CustomerFactory(decile=10)
    version = make_segment(brand_client.user, "high", HIGH)
    brand_client.post(f"{SEGMENTS}high/recompute/", {"as_of": AS_OF_ISO}, format="json")
    response = brand_client.get(f"{SEGMENTS}high/members/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["npi", "entered_at"]
    assert sorted(rows[1:]) == sorted([[a.npi, AS_OF_ISO], [b.npi, AS_OF_ISO]])
    assert version.members.count() == 2


def test_members_filter_by_territory(brand_client):
    from accounts.models import Territory

    north = Territory.objects.create(code="NORTH")
    a = CustomerFactory(decile=9, territory=north)
    CustomerFactory(decile=9)
    make_segment(brand_client.user, "high", HIGH)
    brand_client.post(f"{SEGMENTS}high/recompute/", {}, format="json")
    body = brand_client.get(f"{SEGMENTS}high/members/", {"territory": "NORTH"}).json()
    assert [r["npi"] for r in body["results"]] == [a.npi]


def test_members_of_a_given_version(brand_client):
    CustomerFactory(decile=9)
    active = activate(make_segment(brand_client.user, "high", HIGH))
    from segmentation import services

    services.segment_update(user=brand_client.user, segment=active.segment, name="Next")
    brand_client.post(f"{SEGMENTS}high/recompute/", {}, format="json")
    assert brand_client.get(f"{SEGMENTS}high/members/").json()["count"] == 1
    assert brand_client.get(f"{SEGMENTS}high/members/", {"version": 2}).json()["count"] == 0
    assert brand_client.get(f"{SEGMENTS}high/members/", {"version": 9}).status_code == 404
    assert brand_client.get(f"{SEGMENTS}high/members/", {"version": "x"}).status_code == 400


def test_history_rows_carry_the_time_of_the_change(brand_client):
    CustomerFactory(decile=9)
    make_segment(brand_client.user, "high", HIGH)
    brand_client.post(f"{SEGMENTS}high/recompute/", {"as_of": AS_OF_ISO}, format="json")
    (row,) = brand_client.get(f"{SEGMENTS}high/history/").json()["results"]
    assert row["time"] == row["recorded_at"] and row["time"].endswith("Z")


def test_history_lists_entries_and_exits(brand_client):
    a = CustomerFactory(decile=9)
    make_segment(brand_client.user, "high", HIGH)
    brand_client.post(f"{SEGMENTS}high/recompute/", {"as_of": AS_OF_ISO}, format="json")
    Customer.objects.filter(pk=a.pk).update(decile=1)
    later = "2026-03-02T00:00:00Z"
    brand_client.post(f"{SEGMENTS}high/recompute/", {"as_of": later}, format="json")
    rows = brand_client.get(f"{SEGMENTS}high/history/").json()["results"]
    assert [(r["npi"], r["direction"], r["as_of"], r["version"]) for r in rows] == [
        (a.npi, "entry", AS_OF_ISO, 1),
        (a.npi, "exit", later, 1),
    ]
    assert all(r["recorded_at"] for r in rows)
    since = brand_client.get(f"{SEGMENTS}high/history/", {"since": later}).json()["results"]
    assert [r["direction"] for r in since] == ["exit"]
    by_npi = brand_client.get(f"{SEGMENTS}high/history/", {"npi": "0000000000"}).json()
    assert by_npi["count"] == 0
    bad = brand_client.get(f"{SEGMENTS}high/history/", {"since": "soon"})
    assert bad.status_code == 400
