"""Fixtures for the rule engine tests: run a rule through the SQL engine and get npis back."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Customer
from segmentation.rules import customer_filter

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def matching(db):
    """``matching(rule, as_of=..., versions={key: version_id})`` -> set of npis matched."""

    def _matching(rule, *, as_of=AS_OF, versions=None):
        versions = versions or {}
        q = customer_filter(rule, as_of=as_of, segment_version_id=versions.get)
        return set(Customer.objects.filter(q).values_list("npi", flat=True))

    return _matching


@pytest.fixture
def partition(matching):
    """Check that a rule and its ``not`` split the customers exactly; return the rule's npis."""

    def _partition(rule, **kwargs):
        inside = matching(rule, **kwargs)
        outside = matching({"not": rule}, **kwargs)
        everyone = set(Customer.objects.values_list("npi", flat=True))
        assert inside.isdisjoint(outside), f"in both the rule and its not: {inside & outside}"
        assert inside | outside == everyone, f"in neither: {everyone - inside - outside}"
        return inside

    return _partition
