"""Field views by territory and the export selector (docs/governance.md, docs/api.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from content.models import ContentAsset, ContentMapping
from field import selectors
from governance.services import retire_version
from tests.factories import CustomerFactory, TerritoryFactory
from tests.governance.support import PASSWORD, active_segment, asset, draft

pytestmark = pytest.mark.django_db


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


@pytest.fixture
def territories():
    return TerritoryFactory(code="NE-01"), TerritoryFactory(code="SW-02")


@pytest.fixture
def customers(territories):
    ne, sw = territories
    return {
        "ne": CustomerFactory.create_batch(2, specialty="cardiology", territory=ne),
        "ne_opt_out": CustomerFactory(specialty="cardiology", territory=ne, email_opt_out=True),
        "sw": CustomerFactory(specialty="cardiology", territory=sw),
        "ne_onc": CustomerFactory(specialty="oncology", territory=ne),
    }


def mapped(make_user, segment_key="cardio", code="US-CARD-0042") -> ContentMapping:
    from content import services

    item = asset(code)
    brand, compliance = make_user("brand"), make_user("compliance")
    segment = ContentMapping._meta.get_field("segment").related_model.objects.get(key=segment_key)
    mapping = services.propose_mapping(user=brand, asset=item, segment=segment, rationale="fit")
    return services.decide_mapping(
        user=compliance, mapping=mapping, decision="approve", comment="ok", password=PASSWORD
    )


def test_field_lead_sees_active_segments_with_territory_counts(make_user, customers):
    active_segment(make_user, "cardio")
    lead = make_user("field_lead", territories=["NE-01"])
    response = client(lead).get("/api/v1/territories/NE-01/segments/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["key"], row["version"], row["member_count"]) == ("cardio", 1, 3)


def test_drafts_never_reach_the_field(make_user, customers):
    draft(make_user("brand"), "drafty")
    lead = make_user("field_lead", territories=["NE-01"])
    assert client(lead).get("/api/v1/territories/NE-01/segments/").json()["count"] == 0


def test_field_lead_cannot_see_another_territory(make_user, territories):
    lead = make_user("field_lead", territories=["NE-01"])
    assert client(lead).get("/api/v1/territories/SW-02/segments/").status_code == 403


def test_admin_sees_any_territory(make_user, territories):
    assert client(make_user("admin")).get("/api/v1/territories/SW-02/segments/").status_code == 200


def test_unknown_territory_answers_404_to_admin(make_user):
    assert client(make_user("admin")).get("/api/v1/territories/XX/segments/").status_code == 404


@pytest.mark.parametrize("role", ["brand", "access", "medical", "compliance"])
def test_other_roles_are_refused(make_user, territories, role):
    user = make_user(role, territories=["NE-01"])
    assert client(user).get("/api/v1/territories/NE-01/segments/").status_code == 403


def test_approved_live_content_is_listed(make_user, customers):
    active_segment(make_user, "cardio")
    mapped(make_user)
    lead = make_user("field_lead", territories=["NE-01"])
    row = client(lead).get("/api/v1/territories/NE-01/segments/").json()["results"][0]
    assert [a["code"] for a in row["assets"]] == ["US-CARD-0042"]


def test_expired_content_disappears_before_the_job_runs(make_user, customers):
    active_segment(make_user, "cardio")
    mapping = mapped(make_user)
    ContentAsset.objects.filter(pk=mapping.asset_id).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    rows = selectors.territory_segments(territory_code="NE-01")
    assert rows[0]["assets"] == []


def test_retired_segment_leaves_the_field_view(make_user, customers):
    version = active_segment(make_user, "cardio")
    retire_version(user=make_user("brand"), version=version)
    assert selectors.territory_segments(territory_code="NE-01") == []


def test_export_members_of_a_territory(make_user, customers):
    active_segment(make_user, "cardio")
    npis = set(
        selectors.territory_members(segment="cardio", territory_code="NE-01").values_list(
            "npi", flat=True
        )
    )
    expected = {c.npi for c in customers["ne"]} | {customers["ne_opt_out"].npi}
    assert npis == expected


def test_email_export_leaves_out_opted_out_customers(make_user, customers):
    active_segment(make_user, "cardio")
    npis = set(
        selectors.territory_members(
            segment="cardio", territory_code="NE-01", channel="email"
        ).values_list("npi", flat=True)
    )
    assert npis == {c.npi for c in customers["ne"]}


def test_export_of_a_segment_without_active_version_is_empty(make_user, customers):
    from segmentation.services import recompute_version

    version = draft(make_user("brand"), "drafty", entry_rule={"all": []})
    recompute_version(version=version)
    assert version.members.count() == 5  # computed on request, but never exported
    assert not selectors.territory_members(segment="drafty", territory_code="NE-01").exists()
