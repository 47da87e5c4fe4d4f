"""Shared data for discovery tests: a generated population and planted rules."""

from __future__ import annotations

import pytest

from customers.models import Customer
from segmentation.rules import customer_filter
from segmentation.selectors import ReferenceResolver
from tests.factories.discovery import AS_OF, make_population

THREE_CONDITIONS = {
    "all": [
        {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]},
        {"field": "decile", "op": "gte", "value": 7},
        {"event": {"channel": "rep_visit"}, "within_days": 90, "count": {"op": "gte", "value": 2}},
    ]
}


def members_of(rule: dict) -> list[str]:
    """NPIs the segment engine selects for ``rule`` at AS_OF, sorted."""
    q = customer_filter(rule, as_of=AS_OF, segment_version_id=ReferenceResolver())
    return sorted(Customer.objects.filter(q).values_list("npi", flat=True))


def f1(selected: set[str], truth: set[str]) -> float:
    hits = len(selected & truth)
    return 2 * hits / (len(selected) + len(truth)) if selected or truth else 1.0


@pytest.fixture
def population(db):
    return make_population(1500)


@pytest.fixture
def brand_client(client_for):
    return client_for("brand")


@pytest.fixture
def describe(brand_client):
    """POST a describe request as a brand user; returns the response."""

    def _post(**body):
        body.setdefault("as_of", AS_OF.isoformat())
        return brand_client.post("/api/v1/discovery/describe/", body, format="json")

    return _post
