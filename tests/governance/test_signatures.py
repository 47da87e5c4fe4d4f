"""Electronic signature rules (docs/governance.md, Part 11 §11.50, §11.70, §11.200)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.signing import PasswordMismatch
from core.errors import Conflict, PermissionRefused, ValidationFailed
from governance import services
from governance.models import Signature

from .support import PASSWORD, draft, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(make_user):
    return make_user("brand")


@pytest.fixture
def in_review(author):
    version = draft(author)
    services.submit_version(user=author, version=version)
    version.refresh_from_db()
    return version


def test_signature_records_name_username_time_meaning_comment_and_hash(make_user, in_review):
    medical = make_user("medical", username="mira", full_name="Mira Okafor")
    signature = sign(in_review, medical, "medical", comment="clinically sound")
    assert signature.signer_name == "Mira Okafor"
    assert signature.signer_username == "mira"
    assert signature.signed_at.utcoffset().total_seconds() == 0
    assert "approve" in signature.meaning and "medical" in signature.meaning
    assert signature.comment == "clinically sound"
    assert signature.content_hash == in_review.content_hash


def test_wrong_password_signs_nothing_and_is_logged(make_user, in_review):
    access = make_user("access")
    with pytest.raises(PasswordMismatch) as err:
        services.sign_version(
            user=access, version=in_review, team="access", decision="approve", password="nope"
        )
    assert err.value.status == 403
    assert "password does not match" in str(err.value)
    assert not Signature.objects.exists()
    event = AuditEvent.objects.get(action="signature.failed")
    assert event.actor == access and event.object_id == in_review.segment.key


def test_missing_password_signs_nothing(make_user, in_review):
    with pytest.raises(PasswordMismatch):
        services.sign_version(
            user=make_user("access"),
            version=in_review,
            team="access",
            decision="approve",
            password="",
        )
    assert not Signature.objects.exists()


def test_signer_must_hold_the_teams_role(make_user, in_review):
    access = make_user("access")
    with pytest.raises(PermissionRefused, match="medical role"):
        sign(in_review, access, "medical")
    assert not Signature.objects.exists()


def test_users_without_a_signing_role_cannot_sign(make_user, in_review):
    with pytest.raises(PermissionRefused):
        sign(in_review, make_user("compliance"), "brand")


def test_author_cannot_sign_their_own_version(author, in_review):
    with pytest.raises(PermissionRefused, match="author"):
        sign(in_review, author, "brand")
    assert not Signature.objects.exists()


def test_one_person_signs_for_at_most_one_team(make_user, in_review):
    both = make_user("access", "medical")
    sign(in_review, both, "access")
    with pytest.raises(PermissionRefused, match="at most one team"):
        sign(in_review, both, "medical")
    assert Signature.objects.count() == 1


def test_one_person_signs_at_most_once(make_user, in_review):
    access = make_user("access")
    sign(in_review, access, "access")
    with pytest.raises(Conflict, match="already signed"):
        sign(in_review, access, "access")


def test_one_approval_per_team(make_user, in_review):
    sign(in_review, make_user("access"), "access")
    with pytest.raises(Conflict, match="already approved"):
        sign(in_review, make_user("access"), "access")


def test_a_rejection_needs_a_comment(make_user, in_review):
    with pytest.raises(ValidationFailed, match="comment"):
        sign(in_review, make_user("access"), "access", decision="reject", comment="  ")
    in_review.refresh_from_db()
    assert in_review.state == "in_review"


def test_only_a_version_in_review_can_be_signed(make_user, author):
    version = draft(author)
    with pytest.raises(Conflict, match="only a version in review can be signed"):
        sign(version, make_user("access"), "access")


def test_unknown_team_and_decision_are_refused(make_user, in_review):
    user = make_user("access")
    with pytest.raises(ValidationFailed):
        sign(in_review, user, "legal")
    with pytest.raises(ValidationFailed):
        sign(in_review, user, "access", decision="maybe")


def test_rejection_meaning_names_reject_and_team(make_user, in_review):
    signature = sign(in_review, make_user("access"), "access", decision="reject", comment="no")
    assert "reject" in signature.meaning and "access" in signature.meaning


def test_a_rejecter_may_sign_again_in_the_next_round(make_user, author, in_review):
    access = make_user("access")
    sign(in_review, access, "access", decision="reject", comment="fix the rule")
    services.submit_version(user=author, version=in_review)
    signature = sign(in_review, access, "access")
    assert signature.voided_at is None


def test_signing_is_audited(make_user, in_review):
    sign(in_review, make_user("brand"), "brand")
    event = AuditEvent.objects.get(action="segment.signed")
    assert event.after["team"] == "brand" and event.after["decision"] == "approve"
    assert event.after["content_hash"] == in_review.content_hash


@pytest.mark.django_db(transaction=True)
def test_failed_attempt_is_committed_although_the_request_is_refused(make_user, author):
    version = draft(author, "committed")
    services.submit_version(user=author, version=version)
    with pytest.raises(PasswordMismatch):
        services.sign_version(
            user=make_user("medical"),
            version=version,
            team="medical",
            decision="approve",
            password=PASSWORD + "x",
        )
    # No transaction is open here: what we can read is committed.
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1


def test_an_editor_of_the_draft_counts_as_author(make_user, author):
    from segmentation import services as segments

    version = draft(author, "edited")
    editor = make_user("brand")
    segments.segment_update(user=editor, segment=version.segment, name="Edited name")
    services.submit_version(user=author, version=version)
    with pytest.raises(PermissionRefused, match="author"):
        sign(version, editor, "brand")


def test_a_signer_cannot_switch_teams_after_a_rejection(make_user, author, in_review):
    both = make_user("access", "medical")
    sign(in_review, both, "access", decision="reject", comment="fix it")
    services.submit_version(user=author, version=in_review)
    with pytest.raises(PermissionRefused, match="at most one team"):
        sign(in_review, both, "medical")
