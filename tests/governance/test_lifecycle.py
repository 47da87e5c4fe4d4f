"""Version lifecycle: each legal transition and the illegal ones (docs/governance.md)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, PermissionRefused, ValidationFailed
from customers.models import Customer
from governance import services
from segmentation import services as segments
from segmentation.models import SegmentVersion
from tests.factories import CustomerFactory

from .support import approve_all, draft, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("brand"),
        "brand": make_user("brand"),
        "access": make_user("access"),
        "medical": make_user("medical"),
    }


def submitted(people, key="cardio", **kwargs):
    version = draft(people["author"], key, **kwargs)
    return services.submit_version(user=people["author"], version=version)


def approved(people, key="cardio", **kwargs):
    version = submitted(people, key, **kwargs)
    return approve_all(version, people["brand"], people["access"], people["medical"])


def test_submit_moves_draft_to_in_review(people):
    version = submitted(people)
    version.refresh_from_db()
    assert version.state == "in_review"
    assert version.submitted_at is not None


def test_submit_stores_a_fresh_preview_of_this_content_hash(people):
    CustomerFactory.create_batch(2, specialty="cardiology")
    CustomerFactory(specialty="oncology")
    version = submitted(people)
    version.refresh_from_db()
    assert version.previewed_hash == version.content_hash
    assert version.preview_count == 2


def test_submit_is_audited_with_before_and_after_state(people):
    submitted(people)
    event = AuditEvent.objects.get(action="segment.submitted")
    assert (event.before["state"], event.after["state"]) == ("draft", "in_review")
    assert event.object_type == "segment" and event.object_id == "cardio"


def test_submitting_a_version_in_review_is_refused_naming_the_rule(people):
    version = submitted(people)
    with pytest.raises(Conflict, match="only a draft version can be submitted"):
        services.submit_version(user=people["author"], version=version)


def test_submit_needs_submit_permission(people, make_user):
    version = draft(people["author"])
    with pytest.raises(PermissionRefused):
        services.submit_version(user=make_user("medical"), version=version)
    version.refresh_from_db()
    assert version.state == "draft"


def test_three_approvals_move_the_version_to_approved(people):
    version = approved(people)
    assert version.state == "approved"
    assert version.approved_at is not None


def test_two_approvals_leave_the_version_in_review(people):
    version = submitted(people)
    sign(version, people["brand"], "brand")
    sign(version, people["access"], "access")
    version.refresh_from_db()
    assert version.state == "in_review"


def test_a_reject_returns_the_version_to_draft_and_voids_the_round(people):
    version = submitted(people)
    sign(version, people["brand"], "brand")
    sign(version, people["access"], "access", decision="reject", comment="wrong indication")
    version.refresh_from_db()
    assert version.state == "draft"
    assert version.signatures.count() == 2
    assert not version.signatures.filter(voided_at__isnull=True).exists()


def test_signatures_do_not_carry_over_after_a_rejection(people):
    version = submitted(people)
    sign(version, people["brand"], "brand")
    sign(version, people["medical"], "medical", decision="reject", comment="no")
    services.submit_version(user=people["author"], version=version)
    sign(version, people["access"], "access")
    sign(version, people["medical"], "medical")
    version.refresh_from_db()
    assert version.state == "in_review"  # brand's earlier approval no longer counts


def test_activate_moves_approved_to_active(people):
    version = approved(people)
    version = services.activate_version(user=people["author"], version=version)
    assert version.state == "active"
    assert version.activated_at is not None


def test_activation_recomputes_the_new_active_version(people):
    CustomerFactory.create_batch(3, specialty="cardiology")
    version = approved(people)
    version = services.activate_version(user=people["author"], version=version)
    assert version.member_count == 3
    assert version.recompute_runs.filter(trigger="activation").exists()


def test_activating_a_successor_supersedes_the_active_version(people):
    v1 = approved(people)
    services.activate_version(user=people["author"], version=v1)
    v2 = segments.segment_update(user=people["author"], segment=v1.segment, name="Cardio v2")
    assert v2.number == 2
    services.submit_version(user=people["author"], version=v2)
    approve_all(v2, people["brand"], people["access"], people["medical"])
    services.activate_version(user=people["brand"], version=v2)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.state, v2.state) == ("superseded", "active")
    assert v1.ended_at is not None
    assert SegmentVersion.objects.filter(segment=v1.segment, state="active").count() == 1


def test_the_author_may_activate(people):
    version = approved(people)
    assert services.activate_version(user=people["author"], version=version).state == "active"


def test_activation_by_access_is_refused(people):
    version = approved(people)
    with pytest.raises(PermissionRefused):
        services.activate_version(user=people["access"], version=version)
    version.refresh_from_db()
    assert version.state == "approved"


@pytest.mark.parametrize("state", ["draft", "in_review", "active", "superseded", "retired"])
def test_only_an_approved_version_can_be_activated(people, state):
    version = draft(people["author"])
    SegmentVersion.objects.filter(pk=version.pk).update(state=state)
    version.refresh_from_db()
    with pytest.raises(Conflict, match="only an approved version can be activated"):
        services.activate_version(user=people["author"], version=version)


def test_retire_moves_active_to_retired(people):
    version = services.activate_version(user=people["author"], version=approved(people))
    version = services.retire_version(user=people["author"], version=version, reason="brand ended")
    assert version.state == "retired"
    event = AuditEvent.objects.get(action="segment.retired")
    assert event.reason == "brand ended"


@pytest.mark.parametrize("state", ["draft", "in_review", "approved", "superseded", "retired"])
def test_only_an_active_version_can_be_retired(people, state):
    version = draft(people["author"])
    SegmentVersion.objects.filter(pk=version.pk).update(state=state)
    version.refresh_from_db()
    with pytest.raises(Conflict, match="only an active version can be retired"):
        services.retire_version(user=people["author"], version=version)


def test_submit_refuses_invalid_stored_rules(people):
    version = draft(people["author"])
    SegmentVersion.objects.filter(pk=version.pk).update(
        entry_rule={"field": "specialty", "op": "equals", "value": "cardiology"}
    )
    version.refresh_from_db()
    with pytest.raises(ValidationFailed):
        services.submit_version(user=people["author"], version=version)
    version.refresh_from_db()
    assert version.state == "draft"


def test_transition_table_has_no_path_to_superseded_but_activation():
    sources = {src for (action, src), dst in services.TRANSITIONS.items() if dst == "superseded"}
    assert sources == {"active"}
    assert ("supersede", "active") in services.TRANSITIONS
    assert Customer.objects.count() == 0
