"""The JSON nesting bound leaves room for every rule the rule language accepts."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

LEAF = {"field": "decile", "op": "gte", "value": 7}


def _nested(levels: int) -> dict:
    rule: dict = LEAF
    for _ in range(levels - 1):
        rule = {"all": [rule]}
    return rule


def _preview(client, rule):
    return client.post(
        "/api/v1/segments/preview/",
        data=json.dumps({"entry_rule": rule}),
        content_type="application/json",
    )


def test_a_rule_32_levels_deep_is_accepted(client_for):
    assert _preview(client_for("brand"), _nested(32)).status_code == 200


def test_a_rule_33_levels_deep_is_refused_by_the_validator_naming_its_path(client_for):
    response = _preview(client_for("brand"), _nested(33))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"].startswith("entry_rule")
