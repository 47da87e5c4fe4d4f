"""Inactive customers (a deactivated NPI) are never members (docs/rules.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Customer
from segmentation import services
from tests.factories import CustomerFactory
from tests.segmentation.segments_support import ALWAYS, AS_OF, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db


def test_an_inactive_customer_cannot_enter_and_a_member_leaves_when_deactivated(make_user):
    stays, leaves = CustomerFactory(), CustomerFactory()
    never = CustomerFactory(active=False, deactivated_on=dt.date(2024, 1, 1))
    version = activate(make_segment(make_user("brand"), "everyone", ALWAYS))
    services.recompute_version(version=version, as_of=AS_OF)
    assert member_npis(version) == {stays.npi, leaves.npi}
    assert never.npi not in member_npis(version)
    Customer.objects.filter(pk=leaves.pk).update(active=False)
    services.recompute_version(version=version, as_of=AS_OF)
    assert member_npis(version) == {stays.npi}


def test_an_exit_rule_does_not_keep_an_inactive_member(make_user):
    member = CustomerFactory(specialty="cardiology")
    entry = {"field": "specialty", "op": "eq", "value": "cardiology"}
    never_exit = {"any": []}
    version = activate(make_segment(make_user("brand"), "sticky", entry, never_exit))
    services.recompute_version(version=version, as_of=AS_OF)
    assert member_npis(version) == {member.npi}
    Customer.objects.filter(pk=member.pk).update(active=False)
    services.recompute_version(version=version, as_of=AS_OF)
    assert member_npis(version) == set()


def test_the_preview_leaves_inactive_customers_out():
    from segmentation.services.preview import fresh_members_query

    CustomerFactory()
    CustomerFactory(active=False)
    assert (
        fresh_members_query(entry_rule=ALWAYS, exit_rule=None, parent=None, as_of=AS_OF).count()
        == 1
    )
