"""Two recomputes of one version at once (PostgreSQL): one result, no duplicate history."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from segmentation import services
from segmentation.models import Membership, MembershipChange, RecomputeRun
from tests.factories import CustomerFactory, UserFactory

from .segments_support import AS_OF, make_segment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises whole transactions)")


def test_concurrent_recomputes_of_one_version_apply_once():
    brand = UserFactory(roles=["brand"])
    for decile in (8, 9, 10, 9, 8):
        CustomerFactory(decile=decile)
    version = make_segment(brand, "racy", {"field": "decile", "op": "gte", "value": 8})
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.recompute_version(version=version, as_of=AS_OF))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(r.entered for r in results) == [0, 5]
    assert RecomputeRun.objects.count() == 1
    assert MembershipChange.objects.count() == 5
    assert Membership.objects.filter(version=version).count() == 5
