"""Describe treats a list as a sample of a group: no padded rules, an honest verdict,
unknown NPIs skipped on request, and the page says it all in words."""

from __future__ import annotations

import json
import random

import pytest
from django.test import Client

from customers.models import Customer
from tests.factories.customers import valid_npi
from tests.factories.discovery import make_population

from .conftest import THREE_CONDITIONS, f1, members_of

pytestmark = pytest.mark.django_db

ONCOLOGY_RX = {
    "all": [
        {"field": "specialty", "op": "eq", "value": "oncology"},
        {
            "rx": {"product": "CARDIOZEN"},
            "metric": "trx",
            "months": 6,
            "sum": {"op": "gte", "value": 20},
        },
    ]
}
PLANTED = {
    "one": ({"field": "specialty", "op": "eq", "value": "neurology"}, 1),
    "two": (ONCOLOGY_RX, 2),
    "three": (THREE_CONDITIONS, 3),
}


def _conditions(rule: dict) -> int:
    return sum(len(path["all"]) for path in rule["any"])


def _sample(members: list[str], share: float, seed: int = 3) -> list[str]:
    return random.Random(seed).sample(members, int(len(members) * share))


@pytest.fixture
def larger(db):
    return make_population(3000)


@pytest.mark.parametrize("name", list(PLANTED))
def test_from_70_percent_a_rule_of_n_conditions_comes_back_with_at_most_n_plus_1(
    larger, describe, name
):
    rule, n = PLANTED[name]
    members = members_of(rule)
    assert len(members) >= 40
    body = describe(npis=_sample(members, 0.7)).json()
    assert _conditions(body["entry_rule"]) <= n + 1, body["plain_english"]
    assert f1(set(members_of(body["entry_rule"])), set(members)) >= 0.95
    assert body["verdict"] == "describes"
    assert 0.55 <= body["model"]["label_frequency"] <= 0.85


@pytest.mark.parametrize("share", [0.01, 0.1, 0.3])
def test_a_random_list_has_no_pattern(larger, describe, share):
    npis = list(Customer.objects.values_list("npi", flat=True))
    body = describe(npis=_sample(npis, share, seed=int(share * 100))).json()
    assert body["verdict"] == "no_pattern", body["holdout"]


def test_unknown_npis_are_skipped_and_reported_on_request(population, describe):
    known = [c.npi for c in population[:30]]
    unknown = sorted(valid_npi(900_000 + i) for i in range(6))
    refused = describe(npis=known + unknown)
    assert refused.status_code == 400
    assert "ignore_unknown" in refused.json()["errors"][0]["message"]
    body = describe(npis=known + unknown, ignore_unknown=True).json()
    assert body["ignored"] == unknown
    assert body["model"]["positives"] == 30
    assert describe(npis=known).json()["ignored"] == []


def test_ignore_unknown_still_needs_ten_known_npis(population, describe):
    npis = [c.npi for c in population[:5]] + [valid_npi(900_000 + i) for i in range(10)]
    response = describe(npis=npis, ignore_unknown=True)
    assert response.status_code == 400
    assert "at least 10" in response.json()["errors"][0]["message"]


def test_ignore_unknown_must_be_a_boolean(population, describe):
    response = describe(npis=[c.npi for c in population[:20]], ignore_unknown="yes")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "ignore_unknown"


def _page(make_user, npis: list[str]) -> str:
    client = Client()
    client.force_login(make_user("brand"))
    response = client.post(
        "/discovery/describe/",
        {"npis": "\n".join(npis), "as_of": "2026-06-30T12:00:00Z"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_says_the_verdict_first_and_the_figures_in_words(population, make_user):
    html = _page(make_user, members_of(THREE_CONDITIONS))
    assert html.index("This rule describes your list") < html.index("Suggested rule")
    assert "of every 100 customers this rule selects are on your list" in html
    assert "of every 100 on your list" in html
    assert 'class="button primary"' in html
    raw = html.split('<pre class="diff rule-json">')[1].split("</pre>")[0]
    rule = json.loads(raw.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&"))
    assert rule["any"][0]["all"]


def test_no_pattern_makes_open_as_draft_secondary_with_a_warning(population, make_user):
    npis = [c.npi for c in population]
    html = _page(make_user, _sample(npis, 0.1, seed=1))
    assert "No rule describes this list better than chance" in html
    assert html.index("No rule describes") < html.index("Suggested rule")
    assert 'class="button primary"' not in html.split("Rule as JSON")[1]
    assert 'class="button secondary"' in html
    assert "not recommended" in html
