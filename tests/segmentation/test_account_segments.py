"""Account segments end to end: creation, recompute, hysteresis, history, references,
incremental recompute through a customer change, preview and the API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import ValidationFailed
from customers.models import Customer
from segmentation import selectors, services
from segmentation.models import RecomputeRun
from segmentation.services.preview import PREVIEW_ACCOUNTS_TABLE
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory

from .segments_support import AS_OF, DAY, account_member_ids, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

CARDIO_HIGH = {
    "all": [
        {"field": "specialty", "op": "eq", "value": "cardiology"},
        {"field": "decile", "op": "gte", "value": 8},
    ]
}
TWO_CARDIO = {"members": CARDIO_HIGH, "count": {"op": "gte", "value": 2}}


@pytest.fixture
def brand(make_user):
    return make_user("brand")


@pytest.fixture
def systems(db):
    hs = AccountFactory(account_id="HS1", account_type="health_system", territory=None)
    h1 = AccountFactory(account_id="H1", parent=hs)
    h2 = AccountFactory(account_id="H2", parent=hs)
    AccountFactory(account_id="P1", account_type="payer")
    return {
        "a": CustomerFactory(account=h1, decile=9),
        "b": CustomerFactory(account=h2, decile=9),
        "c": CustomerFactory(account=h2, decile=2),
    }


def recompute(version, as_of=AS_OF, **kwargs):
    return services.recompute_version(version=version, as_of=as_of, **kwargs)


def test_unit_is_stored_and_rollup_counts_the_hierarchy(brand, systems):
    direct = make_segment(brand, "sys-direct", TWO_CARDIO, unit="account")
    deep = make_segment(brand, "sys-deep", TWO_CARDIO, unit="account", rollup="hierarchy")
    assert direct.segment.unit == "account" and direct.rollup == "direct"
    assert recompute(direct).member_count == 0
    result = recompute(deep)
    assert (result.entered, result.member_count) == (1, 1)
    assert account_member_ids(deep) == {"HS1"}
    # Unchanged data and as_of: nothing recorded.
    assert not recompute(deep).changed
    assert RecomputeRun.objects.filter(version=deep).count() == 1


def test_hysteresis_history_and_account_segment_in_customer_rules(brand, systems):
    entry = {"members": CARDIO_HIGH, "count": {"op": "gte", "value": 1}}
    exit_ = {"members": {"all": []}, "count": {"op": "gte", "value": 3}}
    seg = make_segment(brand, "accts", entry, exit_rule=exit_, unit="account")
    recompute(seg)
    assert account_member_ids(seg) == {"H1", "H2"}
    # b leaves cardiology-high: H2 no longer matches entry but stays (no exit yet).
    Customer.objects.filter(pk=systems["b"].pk).update(decile=1)
    recompute(seg, as_of=AS_OF + DAY)
    assert account_member_ids(seg) == {"H1", "H2"}
    # H2 gets a third customer: the exit rule holds, it leaves.
    CustomerFactory(account_id="H2")
    recompute(seg, as_of=AS_OF + 2 * DAY)
    assert account_member_ids(seg) == {"H1"}
    history = selectors.account_history_of(segment=seg.segment)
    assert [(r["account_id"], r["direction"]) for r in history] == [
        ("H1", "entry"),
        ("H2", "entry"),
        ("H2", "exit"),
    ]
    # A customer rule reading the account segment.
    customers = make_segment(brand, "in-accts", {"account_segment": "accts"})
    recompute(customers)
    assert member_npis(customers) == {systems["a"].npi}


def test_references_must_match_units(brand, systems):
    make_segment(brand, "accts", TWO_CARDIO, unit="account")
    make_segment(brand, "cust", CARDIO_HIGH)
    with pytest.raises(ValidationFailed) as exc:
        make_segment(brand, "bad1", {"segment": "accts"})
    assert exc.value.errors[0].path == "entry_rule.segment"
    with pytest.raises(ValidationFailed) as exc:
        make_segment(brand, "bad2", {"account_segment": "cust"})
    assert "account segment" in exc.value.errors[0].message
    with pytest.raises(ValidationFailed) as exc:
        make_segment(brand, "bad3", {"segment": "cust"}, unit="account")
    assert exc.value.errors[0].path == "entry_rule.segment"
    # An account rule may reference account segments and, inside members, customer segments.
    ok = make_segment(
        brand,
        "ok",
        {"all": [{"segment": "accts"}, {"members": {"segment": "cust"}}]},
        unit="account",
    )
    assert ok.segment.unit == "account"
    # A cycle across units is refused.
    with pytest.raises(ValidationFailed) as exc:
        services.segment_update(
            user=brand,
            segment=ok.segment.__class__.objects.get(key="cust"),
            entry_rule={"account_segment": "ok"},
        )
    assert "cycle" in exc.value.errors[0].message


def test_account_segment_follows_a_customer_change(brand, systems):
    seg = activate(make_segment(brand, "sys", TWO_CARDIO, unit="account", rollup="hierarchy"))
    hosp = activate(make_segment(brand, "hosp", {"members": CARDIO_HIGH}, unit="account"))
    follower = activate(make_segment(brand, "fol", {"account_segment": "hosp"}))
    services.recompute_all(as_of=AS_OF)
    assert account_member_ids(seg) == {"HS1"}
    assert account_member_ids(hosp) == {"H1", "H2"}
    a, b, c = systems["a"], systems["b"], systems["c"]
    assert member_npis(follower) == {a.npi, b.npi, c.npi}
    # b is no longer high decile: H2 leaves both account segments, and so does c,
    # whose own data did not change (the follower is recomputed in full).
    Customer.objects.filter(pk=b.pk).update(decile=1)
    results = services.recompute_for_customers(customer_ids=[b.pk], source="import:customers")
    assert account_member_ids(seg) == set()
    assert account_member_ids(hosp) == {"H1"}
    assert member_npis(follower) == {a.npi}
    assert {r.segment for r in results if r.changed} == {"sys", "hosp", "fol"}


def test_coverage_change_recomputes_account_segments_without_customer_ids(brand, systems):
    import datetime as dt

    from customers.models import Coverage

    payer = activate(
        make_segment(
            brand,
            "payers",
            {"coverage": {"product": "CARDIOZEN"}, "status": {"op": "in", "value": ["covered"]}},
            unit="account",
        )
    )
    services.recompute_all(as_of=AS_OF)
    assert account_member_ids(payer) == set()
    Coverage.objects.create(
        account_id="P1",
        product="CARDIOZEN",
        status="covered",
        lives=10,
        effective_from=dt.date(2026, 1, 1),
    )
    services.recompute_for_customers(customer_ids=[], source="import:coverage")
    assert account_member_ids(payer) == {"P1"}


def test_preview_of_an_account_segment(brand, systems):
    preview = services.preview_rule(
        user=brand, entry_rule=TWO_CARDIO, unit="account", rollup="hierarchy"
    )
    assert preview.count == 1
    assert preview.sample[0]["account_id"] == "HS1"
    assert preview.breakdown["account_type"] == [("health_system", 1)]


def test_an_account_preview_evaluates_its_rule_once(brand, systems):
    """Count, sample and both breakdowns read the matching accounts written once (the
    rule's customers are read by one statement), and the table is gone after."""
    with CaptureQueriesContext(connection) as queries:
        preview = services.preview_rule(
            user=brand, entry_rule=TWO_CARDIO, unit="account", rollup="hierarchy"
        )
    assert (preview.count, preview.breakdown["territory"]) == (1, [("—", 1)])
    reading_customers = [q["sql"] for q in queries if "customers_customer" in q["sql"]]
    assert len(reading_customers) == 1, reading_customers
    assert PREVIEW_ACCOUNTS_TABLE not in connection.introspection.table_names()


def test_api_creates_an_account_segment_and_lists_members(client_for, systems):
    client = client_for("brand", "admin")
    response = client.post(
        "/api/v1/segments/",
        {
            "key": "api-sys",
            "name": "Systems",
            "purpose": "promotional",
            "unit": "account",
            "rollup": "hierarchy",
            "entry_rule": TWO_CARDIO,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["unit"] == "account"
    assert response.json()["versions"][0]["rollup"] == "hierarchy"
    assert client.post("/api/v1/segments/api-sys/recompute/", {}, format="json").status_code == 200
    members = client.get("/api/v1/segments/api-sys/members/").json()
    assert [m["account_id"] for m in members["results"]] == ["HS1"]
    csv = client.get("/api/v1/segments/api-sys/members/?format=csv")
    assert b"".join(csv.streaming_content).decode().splitlines()[0] == "account_id,entered_at"
    history = client.get("/api/v1/segments/api-sys/history/").json()
    assert history["results"][0]["account_id"] == "HS1"
    fields = client.get("/api/v1/fields/?unit=account").json()["results"]
    assert "parent.bed_count" in [f["path"] for f in fields]
    preview = client.post(
        "/api/v1/segments/preview/",
        {"unit": "account", "entry_rule": {"field": "account_type", "op": "eq", "value": "payer"}},
        format="json",
    )
    assert preview.json()["count"] == 1
    bad = client.post(
        "/api/v1/segments/preview/",
        {"unit": "account", "entry_rule": {"field": "specialty", "op": "eq", "value": "x"}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "entry_rule.field"


def test_a_rule_that_matches_nobody_by_construction_recomputes_to_no_members(make_user):
    """A reference to a segment without an active version selects nobody; never an error."""
    from segmentation.services.membership import ids_sql
    from segmentation.units import ACCOUNT, CUSTOMER

    for unit in (CUSTOMER, ACCOUNT):
        sql, params = ids_sql(unit.model.objects.none().values("pk"), unit=unit, column="id")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert cursor.fetchall() == []
