"""The invariant of docs/activation.md after every sync, under random membership changes.

After each sync, replaying every message (entered minus later exited) gives
exactly the active version's members, minus the holdout, minus opted-out
customers for email; no NPI is entered twice without an exit between. Opt-out
changes are announced with ``customers_changed``, as every import does.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activation import services
from activation.services import in_holdout, sync_publication
from customers.models import Customer
from customers.signals import announce_customers_changed
from tests.factories.activation import DestinationFactory

from .support import active_version, approved_mapping, cardiologists, held_npis, members

pytestmark = pytest.mark.django_db

N = 16
people = st.sets(st.integers(0, N - 1))


@pytest.fixture
def world(make_user):
    brand = make_user("brand")
    customers = cardiologists(N)
    version = active_version(brand)
    approved_mapping(version, brand)
    return brand, customers, version


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(st.tuples(people, people), min_size=1, max_size=6),
    holdout=st.sampled_from([0, 10, 30, 50]),
    channel=st.sampled_from(["email", "rep_visit"]),
)
def test_destination_holds_members_minus_holdout_minus_suppressed(world, steps, holdout, channel):
    brand, customers, version = world
    with transaction.atomic():
        destination = DestinationFactory(channel=channel)
        publication = services.create_publication(
            user=brand,
            segment=version.segment,
            destination_key=destination.key,
            holdout_percent=holdout,
        )
        for member_ids, opted_out_ids in steps:
            members(version, [customers[i] for i in member_ids])
            Customer.objects.filter(pk__in=[c.pk for c in customers]).update(email_opt_out=False)
            Customer.objects.filter(pk__in=[customers[i].pk for i in opted_out_ids]).update(
                email_opt_out=True
            )
            # As an import does, in the same transaction: announce whose data changed.
            announce_customers_changed(customer_ids=[c.pk for c in customers], source="test")
            sync_publication(publication_id=publication.pk, trigger="property")
            expected = {
                customers[i].npi
                for i in member_ids
                if not in_holdout(publication.pk, customers[i].npi, holdout)
                and not (channel == "email" and i in opted_out_ids)
            }
            assert held_npis(publication) == expected
        transaction.set_rollback(True)
