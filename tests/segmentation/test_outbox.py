"""The recompute outbox: a data change and its recompute request commit together;
a broker outage never fails the change nor loses the request (docs/architecture.md)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from customers.signals import announce_customers_changed
from segmentation import outbox, tasks
from segmentation.models import Membership, RecomputeRequest
from tests.customers.helpers import run_import
from tests.factories import CustomerFactory

from .segments_support import activate, make_segment

pytestmark = pytest.mark.django_db(transaction=True)

HIGH = {"field": "decile", "op": "gte", "value": 8}
BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


def test_a_rolled_back_change_records_no_request():
    with pytest.raises(RuntimeError), transaction.atomic():
        announce_customers_changed(customer_ids=[1, 2], source="test")
        raise RuntimeError("rolled back")
    assert not RecomputeRequest.objects.exists()


def test_broker_down_import_succeeds_and_the_request_waits(make_user):
    brand = make_user("brand")
    customer = CustomerFactory(decile=2)
    version = activate(make_segment(brand, "o-high", HIGH))
    with mock.patch.object(tasks.run_recompute_request, "apply_async", side_effect=BROKER_DOWN):
        result = run_import(
            "customers",
            "npi,first_name,last_name,specialty,decile",
            f"{customer.npi},Ada,King,{customer.specialty},9",
            user=brand,
        )
    assert result is not None
    request = RecomputeRequest.objects.get()
    assert request.dispatched_at is None and request.done_at is None
    assert not Membership.objects.filter(version=version).exists()

    # The broker is back: the beat task (or a worker start) dispatches it; eager here.
    assert tasks.dispatch_recompute_requests() == 1
    request.refresh_from_db()
    assert request.done_at is not None
    assert Membership.objects.filter(version=version, customer=customer).exists()
    # Nothing is done twice: a second dispatch or a duplicate delivery does nothing.
    assert tasks.dispatch_recompute_requests() == 0
    assert outbox.run_request(request_id=request.pk) is None


def test_with_the_broker_up_the_request_is_done_on_commit(make_user):
    brand = make_user("brand")
    customer = CustomerFactory(decile=2)
    version = activate(make_segment(brand, "o-up", HIGH))
    run_import(
        "customers",
        "npi,first_name,last_name,specialty,decile",
        f"{customer.npi},Ada,King,{customer.specialty},9",
        user=brand,
    )
    assert RecomputeRequest.objects.get().done_at is not None
    assert Membership.objects.filter(version=version, customer=customer).exists()
