"""Before withdrawing an asset, its page says what that revokes: the approved mappings (revoked
at once) and the live publications that lose it (paused when it was their last approved content
for the channel), and withdrawing then does exactly that (docs/content.md)."""

from __future__ import annotations

import pytest
from django.test import Client

from activation.models import MemberState, Publication
from activation.selectors import publications_losing_asset
from content.models import ContentMapping
from content.services import set_asset_status
from tests.factories.accounts import DEFAULT_PASSWORD

from .support import approved_mapping, published_to_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(make_user):
    return published_to_email(make_user("brand"), customers=4, holdout=0)


def _page(make_user, path: str) -> str:
    client = Client()
    client.force_login(make_user("compliance"))
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_asset_page_lists_the_mappings_withdrawal_revokes(published, make_user):
    html = _page(make_user, "/content/US-CARD-0042/")
    assert 'data-testid="withdrawal-preview"' in html
    assert "revoked at once" in html and "/segments/cardio/" in html
    assert 'hx-get="/content/US-CARD-0042/withdrawal-preview/"' in html


def test_preview_names_the_publication_that_pauses_and_how_many_leave(published, make_user):
    sent = published.members.filter(state=MemberState.SENT).count()
    assert sent == 4
    html = _page(make_user, "/content/US-CARD-0042/withdrawal-preview/")
    assert "Pauses" in html and "Email platform" in html and "(email)" in html
    assert "takes the 4 people it sent off the list" in html


def test_preview_says_a_publication_keeps_sending_other_approved_content(published, make_user):
    approved_mapping(
        published.segment.versions.get(state="active"), published.created_by, code="US-CARD-0099"
    )
    rows = publications_losing_asset(asset_code="US-CARD-0042")
    assert [(r["pauses"], r["remaining"]) for r in rows] == [(False, ["US-CARD-0099"])]
    html = _page(make_user, "/content/US-CARD-0042/withdrawal-preview/")
    assert "Keeps sending" in html and "US-CARD-0099" in html and "Pauses" not in html


def test_an_asset_without_mappings_revokes_nothing(make_user):
    from tests.governance.support import asset  # noqa: PLC0415

    asset("US-LONE-0001")
    html = _page(make_user, "/content/US-LONE-0001/")
    assert "withdrawing revokes nothing" in html


def test_withdrawing_does_what_the_preview_said(
    published, make_user, django_capture_on_commit_callbacks
):
    [row] = publications_losing_asset(asset_code="US-CARD-0042")
    assert row["pauses"]
    compliance = make_user("compliance", username="withdrawer")
    from content.models import ContentAsset  # noqa: PLC0415

    with django_capture_on_commit_callbacks(execute=True):
        set_asset_status(
            user=compliance,
            asset=ContentAsset.objects.get(code="US-CARD-0042"),
            status="withdrawn",
            reason="claims outdated",
            password=DEFAULT_PASSWORD,
        )
    assert ContentMapping.objects.get(asset__code="US-CARD-0042").state == "revoked"
    assert Publication.objects.get(pk=published.pk).state == "paused"
    assert publications_losing_asset(asset_code="US-CARD-0042") == []
