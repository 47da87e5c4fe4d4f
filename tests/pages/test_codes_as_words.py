"""Pages show codes as words through one helper (core.words.plain); the API keeps the codes."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.services import record_event
from core.words import plain
from tests.factories.activation import DestinationFactory
from tests.governance.support import asset

pytestmark = pytest.mark.django_db


def _get(make_user, role: str, path: str) -> str:
    client = Client()
    client.force_login(make_user(role))
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_plain_reads_statuses_channels_roles_and_audit_actions():
    assert plain("in_review") == "in review"
    assert plain("rep_visit") == "rep visit"
    assert plain("field_lead") == "field lead"
    assert plain("content_revoked") == "content revoked"
    assert plain("asset.withdrawn") == "asset withdrawn"
    assert plain("mlr_status") == "MLR status"
    assert plain("3.5") == "3.5"  # not a code


def test_asset_page_shows_audience_intent_and_channels_in_words(make_user):
    asset("US-CARD-0042", channels=["rep_visit", "email"], intent="medical_education")
    html = _get(make_user, "compliance", "/content/US-CARD-0042/")
    assert "rep visit, email" in html and "medical education" in html
    assert "rep_visit" not in html.replace('value="rep_visit"', "")
    assert "medical_education" not in html.replace('value="medical_education"', "")


def test_destinations_show_channel_and_kind_in_words(make_user):
    DestinationFactory(key="crm-drop", name="CRM drop", channel="rep_visit")
    html = _get(make_user, "admin", "/destinations/")
    assert "rep visit" in html and ">rep_visit<" not in html


def test_audit_log_names_actions_in_words_and_keeps_the_code_as_a_hint(make_user):
    record_event(actor=None, action="asset.withdrawn", object_type="asset", object_id="X-1")
    html = _get(make_user, "compliance", "/audit/")
    assert ">asset withdrawn<" in html
    assert 'title="asset.withdrawn"' in html


def test_badges_use_the_same_words(make_user):
    asset("US-CARD-0043", mlr_status="in_review", mlr_approved_at=None)
    html = _get(make_user, "compliance", "/content/US-CARD-0043/")
    assert '<span class="badge badge-in_review">in review</span>' in html


def test_copd_reads_as_an_acronym_in_every_list(make_user):
    from core.words import label

    assert (plain("copd"), label("copd"), label("rep_visit")) == ("COPD", "COPD", "Rep visit")
    for role, path in (("brand", "/segments/new/"), ("compliance", "/content/new/")):
        html = _get(make_user, role, path)
        assert "COPD" in html and "Copd" not in html, path
        assert "Heart failure" in html and "heart_failure<" not in html, path


def test_an_asset_status_reads_with_its_article(make_user):
    from content.services import update_asset
    from core.errors import Conflict
    from core.words import with_article

    assert with_article("withdrawn") == "a withdrawn"
    assert with_article("approved") == "an approved"
    compliance = make_user("compliance")
    for status, words in (("withdrawn", "a withdrawn asset's"), ("expired", "an expired asset's")):
        locked = asset(f"US-LOCK-{status}", mlr_status=status)
        with pytest.raises(Conflict) as caught:
            update_asset(user=compliance, asset=locked, data={"title": "New title"})
        assert str(caught.value.errors[0].message).startswith(words)
