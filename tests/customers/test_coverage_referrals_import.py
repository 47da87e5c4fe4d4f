"""The coverage and referrals import kinds, and the influence fields they compute."""

from __future__ import annotations

import datetime as dt
import math

import networkx as nx
import pytest

from core.errors import ValidationFailed
from customers.influence import influence_scores, percentiles
from customers.models import Coverage, Influence, Referral, ReferralNetwork
from segmentation.models import RecomputeRequest
from tests.factories.customers import AccountFactory, CustomerFactory, valid_npi

from .helpers import messages, run_import

pytestmark = pytest.mark.django_db

COVERAGE_HEADER = "account_id,product,status,lives,effective_from"
REFERRALS_HEADER = "npi_1,npi_2,pair_count,bene_count,same_day_count,period_end"


def test_coverage_upserts_on_account_product_and_date():
    AccountFactory(account_id="PAY1", account_type="payer")
    result = run_import(
        "coverage",
        COVERAGE_HEADER,
        "PAY1,CARDIOZEN,covered,1000,2026-01-01",
        "PAY1,CARDIOZEN,prior_auth,1200,2026-04-01",
    )
    assert (result.created, result.updated) == (2, 0)
    assert RecomputeRequest.objects.filter(source="import:coverage").count() == 1
    again = run_import("coverage", COVERAGE_HEADER, "PAY1,CARDIOZEN,step_edit,1200,2026-04-01")
    assert (again.created, again.updated) == (0, 1)
    assert Coverage.objects.get(effective_from=dt.date(2026, 4, 1)).status == "step_edit"
    same = run_import("coverage", COVERAGE_HEADER, "PAY1,CARDIOZEN,step_edit,1200,2026-04-01")
    assert same.unchanged == 1


def test_coverage_is_all_or_nothing_with_row_errors():
    AccountFactory(account_id="PAY1", account_type="payer")
    AccountFactory(account_id="HOSP", account_type="hospital")
    with pytest.raises(ValidationFailed) as exc:
        run_import(
            "coverage",
            COVERAGE_HEADER,
            "PAY1,CARDIOZEN,covered,10,2026-01-01",
            "HOSP,CARDIOZEN,covered,10,2026-01-01",
            "NOPE,CARDIOZEN,maybe,-1,2026-13-01",
            "PAY1,CARDIOZEN,covered,11,2026-01-01",
        )
    lines = messages(exc)
    assert any(line.startswith("row 2: account_id") for line in lines)
    assert any(line.startswith("row 3: status") for line in lines)
    assert any(line.startswith("row 3: lives") for line in lines)
    assert any(line.startswith("row 3: effective_from") for line in lines)
    assert any(line.startswith("row 4: effective_from") for line in lines)
    assert not Coverage.objects.exists()


def hand_network():
    """Five cardiologists/oncologists and one outsider: a hub (h) everybody refers to."""
    people = {
        name: CustomerFactory(npi=valid_npi(100 + i), specialty=spec)
        for i, (name, spec) in enumerate(
            [
                ("h", "cardiology"),
                ("a", "cardiology"),
                ("b", "cardiology"),
                ("c", "oncology"),
                ("d", "oncology"),
                ("lone", "oncology"),
            ]
        )
    }
    outsider = valid_npi(999)  # not a customer
    n = {k: v.npi for k, v in people.items()}
    rows = [
        (n["a"], n["h"], 20, 10, 1),
        (n["b"], n["h"], 20, 10, 0),
        (n["c"], n["h"], 30, 15, 0),
        (n["d"], n["c"], 12, 11, 0),
        (n["h"], n["a"], 11, 11, 0),
        (outsider, n["h"], 99, 99, 0),
        (n["lone"], outsider, 50, 50, 0),
    ]
    return people, rows


def test_referrals_import_computes_influence_exactly(tmp_path):
    people, rows = hand_network()
    lines = [f"{a},{b},{p},{bc},{s},2025-12-31" for a, b, p, bc, s in rows]
    result = run_import("referrals", REFERRALS_HEADER, *lines)
    assert result.created == 7
    network = ReferralNetwork.objects.get()
    assert Referral.objects.filter(network=network).count() == 7  # non-customers kept
    scores = {i.customer.npi: i for i in Influence.objects.select_related("customer")}
    n = {k: v.npi for k, v in people.items()}
    # "lone" is only in a pair with a non-customer: missing everywhere.
    assert set(scores) == {n["h"], n["a"], n["b"], n["c"], n["d"]}
    # Hand counts: h is referred to by a, b, c (not the outsider); refers to a.
    assert (scores[n["h"]].referrals_in, scores[n["h"]].referrals_out) == (3, 1)
    assert (scores[n["c"]].referrals_in, scores[n["c"]].referrals_out) == (1, 1)
    # PageRank as networkx computes it on the customers' graph.
    g = nx.DiGraph()
    for a, b, _, bc, _ in rows[:5]:
        g.add_edge(a, b, bene_count=bc)
    pr = nx.pagerank(g, alpha=0.85, weight="bene_count", tol=1e-10, max_iter=1000)
    order = sorted(pr, key=lambda k: (pr[k], k))
    for r, npi in enumerate(order):
        assert scores[npi].pagerank_pct == math.floor(100 * r / 5)
        assert scores[npi].pagerank == pytest.approx(pr[npi], abs=1e-15)
    assert scores[n["h"]].pagerank_pct == 80  # the hub ranks last ascending
    # Within specialty: cardiology {h, a, b}, oncology {c, d}.
    cardio = sorted([n["h"], n["a"], n["b"]], key=lambda k: (pr[k], k))
    for r, npi in enumerate(cardio):
        assert scores[npi].pagerank_pct_in_specialty == (100 * r) // 3
    assert scores[n["c"]].pagerank_pct_in_specialty == 50
    assert scores[n["d"]].pagerank_pct_in_specialty == 0
    # Re-importing the same file changes nothing.
    again = run_import("referrals", REFERRALS_HEADER, *lines)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 7)


def test_a_referrals_import_replaces_its_period_only():
    people, rows = hand_network()
    run_import(
        "referrals",
        REFERRALS_HEADER,
        *[f"{a},{b},{p},{bc},{s},2025-06-30" for a, b, p, bc, s in rows],
    )
    a, b = rows[0][0], rows[0][1]
    run_import("referrals", REFERRALS_HEADER, f"{a},{b},1,1,0,2025-12-31")
    run_import("referrals", REFERRALS_HEADER, f"{b},{a},1,1,0,2025-12-31")
    assert ReferralNetwork.objects.count() == 2
    latest = ReferralNetwork.objects.get(period_end=dt.date(2025, 12, 31))
    assert list(Referral.objects.filter(network=latest).values_list("npi_1", "npi_2")) == [(b, a)]
    assert Referral.objects.filter(network__period_end=dt.date(2025, 6, 30)).count() == 7


def test_referrals_validation():
    with pytest.raises(ValidationFailed) as exc:
        run_import(
            "referrals",
            REFERRALS_HEADER,
            "123,1234567893,1,1,0,2025-12-31",
            "1234567893,1234567893,-1,1,0,2025-12-31",
            "1234567893,1234567893,1,1,0,2025-12-31",
            "1234567893,1234567893,1,1,0,2025-12-31",
        )
    lines = messages(exc)
    assert lines[0].startswith("row 1: npi_1")
    assert any(line.startswith("row 2: pair_count") for line in lines)
    assert any("duplicates row 3" in line for line in lines)
    assert not ReferralNetwork.objects.exists()


def test_percentile_ties_go_by_npi():
    assert percentiles({"2": 0.5, "1": 0.5, "3": 0.1}) == {"3": 0, "1": 33, "2": 66}
    assert influence_scores([("x", "y", 1)], {"y": "cardiology"}) == {}


def test_rules_read_the_latest_period_at_or_before_as_of(make_user):
    from customers.models import Customer
    from segmentation.rules import customer_filter

    people, rows = hand_network()
    run_import(
        "referrals",
        REFERRALS_HEADER,
        *[f"{a},{b},{p},{bc},{s},2025-06-30" for a, b, p, bc, s in rows],
    )
    h, a = people["h"], people["a"]
    # A later period where a is the hub.
    run_import(
        "referrals",
        REFERRALS_HEADER,
        f"{h.npi},{a.npi},5,5,0,2025-12-31",
        f"{people['b'].npi},{a.npi},5,5,0,2025-12-31",
    )

    def top(as_of):
        q = customer_filter(
            {"field": "influence.pagerank_pct", "op": "gte", "value": 60},
            as_of=as_of,
            segment_version_id=lambda k: None,
        )
        return set(Customer.objects.filter(q).values_list("npi", flat=True))

    assert top(dt.datetime(2025, 7, 1, tzinfo=dt.UTC)) == {h.npi, a.npi}
    assert top(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == {a.npi}
    assert top(dt.datetime(2025, 1, 1, tzinfo=dt.UTC)) == set()
    missing = customer_filter(
        {"field": "influence.referrals_in", "op": "is_not_set"},
        as_of=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        segment_version_id=lambda k: None,
    )
    assert set(Customer.objects.filter(missing).values_list("npi", flat=True)) == {
        people["c"].npi,
        people["d"].npi,
        people["lone"].npi,
    }
