"""Account segments' rules on small readable data (docs/rules.md, "Account segments").

The network: health system HS1 with hospitals H1 (two cardiologists, deciles 9
and 3) and H2 (one oncologist, decile 8); clinic C1 under H1 (one cardiologist,
decile 10); HS2 with no customers; payer P1 with coverage rows.
"""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Account, Coverage
from segmentation.rules import account_filter, validate_rule
from tests.factories.customers import (
    AccountFactory,
    CustomerFactory,
    InteractionFactory,
    RxFactFactory,
)

AS_OF = dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)
ACCOUNTS = {"HS1", "HS2", "H1", "H2", "C1", "P1"}


@pytest.fixture
def network(db):
    hs1 = AccountFactory(account_id="HS1", account_type="health_system", state="MA")
    AccountFactory(account_id="HS2", account_type="health_system", state="NY")
    h1 = AccountFactory(account_id="H1", parent=hs1, bed_count=400, state="MA")
    h2 = AccountFactory(account_id="H2", parent=hs1, bed_count=50)
    c1 = AccountFactory(account_id="C1", account_type="clinic", parent=h1)
    AccountFactory(account_id="P1", account_type="payer")
    people = {
        "a": CustomerFactory(account=h1, specialty="cardiology", decile=9),
        "b": CustomerFactory(account=h1, specialty="cardiology", decile=3),
        "c": CustomerFactory(account=h2, specialty="oncology", decile=8),
        "d": CustomerFactory(account=c1, specialty="cardiology", decile=10),
        "e": CustomerFactory(account=None, specialty="cardiology", decile=10),
    }
    return people


@pytest.fixture
def accounts(db):
    def _accounts(rule, *, rollup="direct", versions=None, as_of=AS_OF):
        validate_rule(rule, segment_exists=lambda k: True, unit="account")
        versions = versions or {}
        q = account_filter(rule, as_of=as_of, segment_version_id=versions.get, rollup=rollup)
        inside = set(Account.objects.filter(q).values_list("pk", flat=True))
        outside = set(
            Account.objects.filter(
                account_filter(
                    {"not": rule}, as_of=as_of, segment_version_id=versions.get, rollup=rollup
                )
            ).values_list("pk", flat=True)
        )
        assert inside.isdisjoint(outside)
        assert inside | outside == set(Account.objects.values_list("pk", flat=True))
        return inside

    return _accounts


CARDIO = {"field": "specialty", "op": "eq", "value": "cardiology"}


def test_own_and_parent_fields(network, accounts):
    assert accounts({"field": "account_type", "op": "eq", "value": "hospital"}) == {"H1", "H2"}
    assert accounts({"field": "bed_count", "op": "gt", "value": 100}) == {"H1"}
    # Missing bed_count: ne is true, gt and lte both false.
    assert accounts({"field": "bed_count", "op": "ne", "value": 400}) == ACCOUNTS - {"H1"}
    assert accounts({"field": "bed_count", "op": "lte", "value": 400}) == {"H1", "H2"}
    assert accounts({"field": "parent.account_id", "op": "eq", "value": "HS1"}) == {"H1", "H2"}
    assert accounts({"field": "parent.state", "op": "eq", "value": "MA"}) == {"H1", "H2", "C1"}
    # No parent: parent fields are missing.
    assert accounts({"field": "parent.state", "op": "is_not_set"}) == {"HS1", "HS2", "P1"}
    assert accounts({"field": "parent.bed_count", "op": "gte", "value": 1}) == {"C1"}


def test_members_count_direct_and_hierarchy(network, accounts):
    rule = {"members": CARDIO, "count": {"op": "gte", "value": 2}}
    assert accounts(rule) == {"H1"}
    # Hierarchy: HS1 has a, b, d (three cardiologists); H1 has a, b, d.
    assert accounts(rule, rollup="hierarchy") == {"HS1", "H1"}
    # Default count: at least one.
    assert accounts({"members": CARDIO}) == {"H1", "C1"}
    assert accounts({"members": CARDIO}, rollup="hierarchy") == {"HS1", "H1", "C1"}
    # Zero: accounts without any matching affiliated customer (incl. none at all).
    zero = {"members": CARDIO, "count": {"op": "eq", "value": 0}}
    assert accounts(zero) == {"HS1", "HS2", "H2", "P1"}


def test_members_share_and_zero_affiliated(network, accounts):
    high = {"all": [CARDIO, {"field": "decile", "op": "gte", "value": 8}]}
    # H1: 1 of 2 (0.5); C1: 1 of 1; H2: 0 of 1; HS2 and P1: no customers -> false.
    assert accounts({"members": high, "share": {"op": "gte", "value": 0.5}}) == {"H1", "C1"}
    assert accounts({"members": high, "share": {"op": "lt", "value": 0.5}}) == {"H2"}
    assert accounts({"members": high, "share": {"op": "eq", "value": 0}}) == {"H2"}
    # Hierarchy: HS1 has a, b, c, d (2 of 4); H1 has a, b, d (2 of 3).
    assert accounts({"members": high, "share": {"op": "eq", "value": 0.5}}, rollup="hierarchy") == {
        "HS1"
    }
    # Both given: both must hold.
    both = {"members": high, "count": {"op": "gte", "value": 1}, "share": {"op": "lt", "value": 1}}
    assert accounts(both) == {"H1"}


def test_event_and_rx_rollups(network, accounts):
    p = network
    InteractionFactory(customer=p["a"], occurred_at=AS_OF - dt.timedelta(days=5))
    InteractionFactory(customer=p["b"], occurred_at=AS_OF - dt.timedelta(days=5))
    InteractionFactory(customer=p["d"], occurred_at=AS_OF - dt.timedelta(days=50))
    InteractionFactory(customer=p["c"], occurred_at=AS_OF + dt.timedelta(days=1))  # after as_of
    two = {"event": {"channel": "email"}, "within_days": 30, "count": {"op": "gte", "value": 2}}
    assert accounts(two) == {"H1"}
    assert accounts(
        {**two, "within_days": 90, "count": {"op": "eq", "value": 3}}, rollup="hierarchy"
    ) == {"HS1", "H1"}
    RxFactFactory(customer=p["a"], month=dt.date(2026, 3, 1), trx=5)
    RxFactFactory(customer=p["c"], month=dt.date(2026, 2, 1), trx=4)
    RxFactFactory(customer=p["d"], month=dt.date(2025, 1, 1), trx=100)
    rx = {
        "rx": {"product": "CARDIOZEN"},
        "metric": "trx",
        "months": 3,
        "sum": {"op": "gte", "value": 9},
    }
    assert accounts(rx) == set()
    assert accounts(rx, rollup="hierarchy") == {"HS1"}
    assert accounts({**rx, "sum": {"op": "eq", "value": 0}}) == ACCOUNTS - {"H1", "H2"}


def test_coverage_latest_row_and_missing_row(network, accounts):
    p1 = Account.objects.get(pk="P1")
    Coverage.objects.create(
        account=p1,
        product="CARDIOZEN",
        status="covered",
        lives=1000,
        effective_from=dt.date(2025, 1, 1),
    )
    Coverage.objects.create(
        account=p1,
        product="CARDIOZEN",
        status="prior_auth",
        lives=1200,
        effective_from=dt.date(2026, 1, 1),
    )
    Coverage.objects.create(
        account=p1,
        product="CARDIOZEN",
        status="not_covered",
        lives=0,
        effective_from=dt.date(2026, 6, 1),
    )
    cov = {"coverage": {"product": "CARDIOZEN"}}
    assert accounts({**cov, "status": {"op": "in", "value": ["prior_auth"]}}) == {"P1"}
    assert accounts({**cov, "status": {"op": "in", "value": ["covered"]}}) == set()
    assert accounts(
        {**cov, "status": {"op": "in", "value": ["covered"]}}, as_of=AS_OF.replace(year=2025)
    ) == {"P1"}
    # Missing row: not_in is true, lives is false.
    assert accounts({**cov, "status": {"op": "not_in", "value": ["prior_auth"]}}) == ACCOUNTS - {
        "P1"
    }
    assert accounts({**cov, "lives": {"op": "gte", "value": 1100}}) == {"P1"}
    assert accounts({**cov, "lives": {"op": "ne", "value": 5}}) == {"P1"}
    assert accounts({"coverage": {"product": "OTHER"}, "lives": {"op": "gte", "value": 0}}) == set()
    assert accounts(cov) == {"P1"}


def test_validation_errors_name_their_paths():
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        validate_rule(
            {
                "all": [
                    {
                        "members": {"field": "bed_count", "op": "gt", "value": 1},
                        "share": {"op": "gte"},
                    },
                    {"coverage": {"product": ""}, "status": {"op": "in", "value": ["maybe"]}},
                    {"field": "specialty", "op": "eq", "value": "cardiology"},
                    {"account_segment": "x"},
                ]
            },
            segment_exists=lambda k: True,
            unit="account",
        )
    paths = {e.path for e in exc.value.errors}
    assert "entry_rule.all[0].members.field" in paths
    assert "entry_rule.all[0].share.value" in paths
    assert "entry_rule.all[1].coverage.product" in paths
    assert "entry_rule.all[1].status.value[0]" in paths
    assert "entry_rule.all[2].field" in paths
    assert "entry_rule.all[3]" in paths
    with pytest.raises(ValidationFailed) as exc:
        validate_rule({"members": {"all": []}}, segment_exists=lambda k: True)
    assert exc.value.errors[0].path == "entry_rule"
