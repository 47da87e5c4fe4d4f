"""Inactive customers and accounts in account segments (docs/rules.md, "Inactive customers"):
a deactivated customer is never a member of a customer segment, but stays one of its
account's affiliated customers, so ``members`` counts, shares and hierarchy rollups
count them; a deactivated account leaves its account segments at the next recompute."""

from __future__ import annotations

import pytest

from customers.models import Account, Customer
from segmentation import services
from segmentation.models import AccountMembershipSpell
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory

from .segments_support import AS_OF, DAY, account_member_ids, activate, make_segment, member_npis

pytestmark = pytest.mark.django_db

CARDIOLOGY = {"field": "specialty", "op": "eq", "value": "cardiology"}


@pytest.fixture
def brand(make_user):
    return make_user("brand")


@pytest.fixture
def hospital(db):
    """H1 (in health system HS1): two active cardiologists, one deactivated cardiologist
    and one deactivated oncologist."""
    hs = AccountFactory(account_id="HS1", account_type="health_system")
    h1 = AccountFactory(account_id="H1", parent=hs)
    CustomerFactory.create_batch(2, account=h1, specialty="cardiology")
    CustomerFactory(account=h1, specialty="cardiology", active=False)
    CustomerFactory(account=h1, specialty="oncology", active=False)
    return h1


def segment(brand, key, rule, **kwargs):
    version = activate(make_segment(brand, key, rule, unit="account", **kwargs))
    services.recompute_version(version=version, as_of=AS_OF)
    return version


def test_inactive_customers_count_among_an_accounts_affiliated_customers(brand, hospital):
    # 3 of 4 affiliated customers are cardiologists, one of them deactivated.
    three = {"members": CARDIOLOGY, "count": {"op": "gte", "value": 3}}
    assert account_member_ids(segment(brand, "three", three)) == {"H1"}
    share = {"members": CARDIOLOGY, "share": {"op": "eq", "value": 0.75}}
    assert account_member_ids(segment(brand, "share", share)) == {"H1"}
    four = {"members": CARDIOLOGY, "count": {"op": "gte", "value": 4}}
    assert account_member_ids(segment(brand, "four", four)) == set()


def test_the_hierarchy_rollup_counts_them_too(brand, hospital):
    rule = {
        "all": [
            {"field": "account_type", "op": "eq", "value": "health_system"},
            {"members": CARDIOLOGY, "count": {"op": "eq", "value": 3}},
        ]
    }
    assert account_member_ids(segment(brand, "systems", rule, rollup="hierarchy")) == {"HS1"}
    assert account_member_ids(segment(brand, "direct", rule)) == set()  # HS1 has none of its own


def test_a_reference_inside_members_sees_only_active_customers(brand, hospital):
    # Inactive customers are never members of a customer segment, so a members rule
    # that refers to one counts only the active cardiologists.
    cardio = activate(make_segment(brand, "cardio", CARDIOLOGY))
    services.recompute_version(version=cardio, as_of=AS_OF)
    assert len(member_npis(cardio)) == 2
    rule = {"members": {"segment": "cardio"}, "count": {"op": "gte", "value": 3}}
    assert account_member_ids(segment(brand, "ref", rule)) == set()
    rule = {"members": {"segment": "cardio"}, "count": {"op": "eq", "value": 2}}
    assert account_member_ids(segment(brand, "ref2", rule)) == {"H1"}


def test_a_deactivated_account_leaves_its_account_segments(brand, hospital):
    version = segment(
        brand, "hospitals", {"field": "account_type", "op": "eq", "value": "hospital"}
    )
    assert account_member_ids(version) == {"H1"}
    Account.objects.filter(account_id="H1").update(active=False)
    services.recompute_version(version=version, as_of=AS_OF + DAY)
    assert account_member_ids(version) == set()
    spell = AccountMembershipSpell.objects.get(version=version, account_id="H1")
    assert spell.exited_as_of == AS_OF + DAY  # recorded like any other exit
    preview = services.preview_rule(
        user=brand,
        entry_rule={"field": "account_type", "op": "eq", "value": "hospital"},
        unit="account",
    )
    assert preview.count == 0
    assert Customer.objects.filter(account_id="H1").count() == 4  # its customers stay
