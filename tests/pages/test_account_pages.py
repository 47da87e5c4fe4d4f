"""Account and customer pages, and field leads' accounts in their territory."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Coverage, Influence, ReferralNetwork
from segmentation import services as segments
from segmentation.models import SegmentVersion
from tests.factories import CustomerFactory
from tests.factories.customers import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer_world(world):
    payer = AccountFactory(
        account_id="PAY-1", name="Blue Plan", account_type="payer", territory_id="T001"
    )
    Coverage.objects.create(
        account=payer,
        product="CARDIOZEN",
        status="prior_auth",
        lives=5000,
        effective_from=dt.date(2026, 1, 1),
    )
    hcp = CustomerFactory(account=payer, specialty="cardiology")
    network = ReferralNetwork.objects.create(
        period_end=dt.date(2025, 12, 31), pairs=1, customers=1, imported_at=timezone.now()
    )
    Influence.objects.create(
        network=network,
        customer=hcp,
        referrals_in=7,
        referrals_out=2,
        pagerank=0.1,
        pagerank_pct=97,
        pagerank_pct_in_specialty=88,
    )
    segment = segments.segment_create(
        user=world.users.author,
        key="pa-payers",
        name="Prior-auth payers",
        purpose="market_access",
        unit="account",
        entry_rule={
            "coverage": {"product": "CARDIOZEN"},
            "status": {"op": "in", "value": ["prior_auth"]},
        },
    )
    version = segment.versions.get(number=1)
    SegmentVersion.objects.filter(pk=version.pk).update(state="active")
    segments.recompute_version(version=version)
    return payer, hcp


def test_account_page_shows_customers_coverage_and_segments(payer_world, world, page_client):
    payer, hcp = payer_world
    body = page_client(world.users.author).get("/organizations/PAY-1/").content.decode()
    assert "Blue Plan" in body
    assert "prior_auth" in body and "5000" in body
    assert "pa-payers" in body
    assert hcp.npi in body


def test_customer_page_shows_influence(payer_world, world, page_client):
    _, hcp = payer_world
    body = page_client(world.users.author).get(f"/hcps/{hcp.npi}/").content.decode()
    assert 'data-testid="customer-influence"' in body
    assert ">97<" in body and ">88<" in body


def test_field_lead_sees_accounts_in_their_territory(payer_world, world, page_client):
    body = page_client(world.users.field).get("/territories/T001/").content.decode()
    assert 'data-testid="territory-accounts"' in body
    assert "PAY-1" in body and "pa-payers" in body


def test_field_catalog_of_the_builder_has_influence_fields(world, page_client):
    body = page_client(world.users.author).get("/segments/new/").content.decode()
    assert "influence.pagerank_pct_in_specialty" in body
    assert "account-field-catalog" in body


def test_active_account_segment_page_lists_member_accounts(payer_world, world, page_client):
    response = page_client(world.users.author).get("/segments/pa-payers/")
    assert response.status_code == 200
    assert 'data-testid="member-accounts"' in response.content.decode()
