"""Segment version sign-off: submit, sign, approve, activate, retire.

The lifecycle is a small explicit transition table rather than a state-machine
library (django-fsm and friends): there are five transitions, each with its own
guards that need the database (signatures, previews, locks), and a table we can
read in one screen is easier to audit than decorators spread over a model.

    draft      --submit-->   in_review   (valid rules + a fresh preview of this content hash)
    in_review  --approve-->  approved    (brand, access and medical approve signatures)
    in_review  --reject-->   draft       (any reject signature; voids the round's signatures)
    approved   --activate--> active      (previous active -> superseded, in one transaction)
    active     --supersede-> superseded  (only by the activation of a successor)
    active     --retire-->   retired     (approved content mappings revoked)

Every transition runs in one transaction, locks the version row, and appends an
audit event with the before/after state.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from accounts.permissions import SIGNING_TEAMS, require
from accounts.signing import Reauthentication, verify_signer
from audit.models import AuditEvent
from audit.services import record_event
from audit.signing import team_label
from content import services as content_services
from core.errors import Conflict, ErrorDetail, PermissionRefused, ValidationFailed
from core.time import iso_z
from segmentation import services as segment_services
from segmentation.models import Segment, SegmentVersion, VersionState

from .models import Decision, Signature
from .signals import version_state_changed

S = VersionState
logger = logging.getLogger(__name__)

# (action, from-state) -> to-state. Anything not listed is an illegal transition.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("submit", S.DRAFT): S.IN_REVIEW,
    ("approve", S.IN_REVIEW): S.APPROVED,
    ("reject", S.IN_REVIEW): S.DRAFT,
    ("activate", S.APPROVED): S.ACTIVE,
    ("supersede", S.ACTIVE): S.SUPERSEDED,
    ("retire", S.ACTIVE): S.RETIRED,
}

# The rule each action breaks when the version is in the wrong state, in the
# business's words; the API answers 400 with it.
_RULES = {
    "submit": "only a draft version can be submitted for review",
    "approve": "only a version in review can be approved",
    "reject": "only a version in review can be rejected",
    "sign": "only a version in review can be signed",
    "activate": "only an approved version can be activated",
    "supersede": "only an active version can be superseded (by activating its successor)",
    "retire": "only an active version can be retired",
}


def version_ref(version: SegmentVersion) -> str:
    """How messages name a version: ``<segment key> v<number>``."""
    return f"{version.segment.key} v{version.number}"


# Audit actions, in the past tense like the segment service's ``segment.created``.
# Events about a version are recorded on the segment (object ``segment:<key>``)
# with the version number in before/after, so one filter shows a segment's story.
_EVENT = {
    "submit": "segment.submitted",
    "approve": "segment.approved",
    "reject": "segment.rejected",
    "activate": "segment.activated",
    "supersede": "segment.superseded",
    "retire": "segment.retired",
}


def _snapshot(version: SegmentVersion) -> dict:
    return {
        "segment": version.segment.key,
        "version": version.number,
        "state": version.state,
        "content_hash": version.content_hash,
    }


def _fresh(version: SegmentVersion) -> SegmentVersion:
    """The version as stored now (callers may hold a stale copy)."""
    return SegmentVersion.objects.select_related("segment").get(pk=version.pk)


def _check_transition(version: SegmentVersion, action: str) -> str:
    """Return the target state, or raise Conflict naming the rule that forbids it."""
    target = TRANSITIONS.get((action, version.state))
    if target is None:
        raise Conflict(
            f"{_RULES[action]}; {version_ref(version)} is {version.state}",
            path="state",
            code="illegal_transition",
        )
    return target


def _locked(version: SegmentVersion) -> SegmentVersion:
    """Re-read the version under a row lock so concurrent sign-offs serialise."""
    return (
        SegmentVersion.objects.select_for_update()
        .select_related("segment", "author")
        .get(pk=version.pk)
    )


def _move(
    *, version: SegmentVersion, action: str, actor, reason: str = "", extra: dict | None = None
) -> SegmentVersion:
    """Apply one table transition to a locked version and audit it."""
    before = _snapshot(version)
    version.state = _check_transition(version, action)
    now = timezone.now()
    fields = ["state", "updated_at"]
    stamp = {
        S.IN_REVIEW: "submitted_at",
        S.APPROVED: "approved_at",
        S.ACTIVE: "activated_at",
        S.SUPERSEDED: "ended_at",
        S.RETIRED: "ended_at",
    }.get(version.state)
    if stamp:
        setattr(version, stamp, now)
        fields.append(stamp)
    version.save(update_fields=fields)
    record_event(
        actor=actor,
        action=_EVENT[action],
        object_type="segment",
        object_id=version.segment.key,
        before=before,
        after={**_snapshot(version), **(extra or {})},
        reason=reason,
    )
    announcement = {
        "version_id": version.pk,
        "segment_key": version.segment.key,
        "version_number": version.number,
        "action": action,
        "state": version.state,
    }
    transaction.on_commit(lambda: version_state_changed.send(sender=_move, **announcement))
    return version


# --------------------------------------------------------------------------- which version


def version_for_action(*, segment: Segment, state: str) -> SegmentVersion:
    """The segment's version in ``state`` (the one an action on the segment means).

    Raises Conflict naming the rule when there is none, e.g. activating a
    segment that has no approved version.
    """
    version = (
        SegmentVersion.objects.select_related("segment")
        .filter(segment=segment, state=state)
        .order_by("-number")
        .first()
    )
    if version is None:
        wanted = {
            S.DRAFT: "draft version to submit (only a draft can be submitted)",
            S.IN_REVIEW: "version in review to sign (only a version in review can be signed)",
            S.APPROVED: "approved version to activate (only an approved version can be activated)",
            S.ACTIVE: "active version to retire (only an active version can be retired)",
        }.get(state, f"{state} version")
        raise Conflict(f"segment {segment.key} has no {wanted}", path="state")
    return version


# --------------------------------------------------------------------------- submit


def submit_version(*, user, version: SegmentVersion) -> SegmentVersion:
    """draft -> in_review: needs valid rules and a fresh size preview of this content.

    The preview is computed here (segments' ``preview_version``), so the one
    stored on the version is of exactly the content hash being submitted; it
    also validates the rules and raises ValidationFailed naming the bad node.
    """

    require(user, "submit_segment")
    given, version = version, _fresh(version)
    _check_transition(version, "submit")
    segment_services.preview_version(user=user, version=version)
    with transaction.atomic():
        version = _locked(version)
        if not version.previewed_hash or version.previewed_hash != version.content_hash:
            raise Conflict(
                "submission needs a fresh size preview of exactly this content "
                f"(previewed {version.previewed_hash or 'never'}, content {version.content_hash})",
                path="preview",
            )
        _move(
            version=version,
            action="submit",
            actor=user,
            extra={"preview_count": version.preview_count},
        )
    given.refresh_from_db()
    return given


# --------------------------------------------------------------------------- signatures


def signature_meaning(*, team: str, decision: str) -> str:
    """What the signature means, printed with it (Part 11 §11.50(a)(3))."""
    return f"{decision} for the {team} team ({team_label(team)})"


def _validate_signature_input(*, user, version, team: str, decision: str, comment: str) -> None:
    errors = []
    if team not in SIGNING_TEAMS:
        errors.append(("team", f"unknown team '{team}' (expected one of brand, access, medical)"))
    if decision not in Decision.values:
        errors.append(("decision", f"unknown decision '{decision}' (expected approve or reject)"))
    if decision == Decision.REJECT and not (comment or "").strip():
        errors.append(("comment", "a rejection needs a comment"))
    if errors:
        raise ValidationFailed(errors=[ErrorDetail(path=p, message=m) for p, m in errors])
    if not user.has_role(team):
        raise PermissionRefused(
            f"only a user holding the {team} role can sign for the {team} team", path="team"
        )


def _check_signing_rules(*, user, version: SegmentVersion, team: str, decision: str) -> None:
    """The separation-of-duties and one-approval-per-team rules (docs/governance.md)."""
    if version.state != S.IN_REVIEW:
        raise Conflict(f"{_RULES['sign']}; {version_ref(version)} is {version.state}", path="state")
    if is_version_author(version=version, user=user):
        raise PermissionRefused(
            "separation of duties: the author of a version cannot sign it", path="signer"
        )
    # One team per person per version, across review rounds: a rejection voids
    # the round's signatures but does not let the signer switch teams.
    other_team = Signature.objects.filter(version=version, signer=user).exclude(team=team).first()
    if other_team is not None:
        raise PermissionRefused(
            f"separation of duties: one person signs for at most one team per version; "
            f"you signed for the {other_team.team} team",
            path="team",
        )
    live = Signature.objects.filter(version=version, voided_at__isnull=True)
    if live.filter(signer=user).exists():
        raise Conflict(
            f"you already signed {version_ref(version)} for the {team} team", path="signer"
        )
    if decision == Decision.APPROVE and live.filter(team=team, decision=Decision.APPROVE).exists():
        raise Conflict(f"the {team} team has already approved {version_ref(version)}", path="team")


def is_version_author(*, version: SegmentVersion, user) -> bool:
    """True when ``user`` opened or edited this version: they may not sign it (separation of
    duties, docs/governance.md), so pages offer them no sign form."""
    return version.author_id == user.pk or _edited_by(version, user)


def _edited_by(version: SegmentVersion, user) -> bool:
    """True when ``user`` wrote content of this version (created or edited the draft).

    The version's ``author`` is whoever opened the draft; another brand user
    editing it is an author too and must not sign it either.
    """
    return AuditEvent.objects.filter(
        object_type="segment",
        object_id=version.segment.key,
        action__in=("segment.created", "segment.updated", "segment.version_created"),
        actor=user,
        after__version=version.number,
    ).exists()


def sign_version(
    *,
    user,
    version: SegmentVersion,
    team: str,
    decision: str,
    comment: str = "",
    password: str | None,
    reauth: Reauthentication | None = None,
) -> Signature:
    """Record an electronic signature on a version in review.

    The password is re-entered in the same request; a wrong one signs nothing,
    records a committed ``signature.failed`` audit event and raises
    PasswordMismatch (403). An approval that completes brand + access + medical
    moves the version to approved; a rejection (comment mandatory) voids this
    round's signatures and returns it to draft.
    """
    require(user, "sign_segment")
    given, version = version, _fresh(version)
    _validate_signature_input(
        user=user, version=version, team=team, decision=decision, comment=comment
    )
    # Cheap rule checks before asking for the password, so a refused action
    # is not logged as a failed signature; they are checked again under lock.
    _check_signing_rules(user=user, version=version, team=team, decision=decision)
    signer = verify_signer(
        user=user,
        password=password,
        reauth=reauth,
        object_type="segment",
        object_id=version.segment.key,
        attempted={"version": version.number, "team": team, "decision": decision},
    )
    with transaction.atomic():
        version = _locked(version)
        _check_signing_rules(user=user, version=version, team=team, decision=decision)
        now = timezone.now()
        signature = Signature.objects.create(
            version=version,
            team=team,
            decision=decision,
            meaning=signature_meaning(team=team, decision=decision),
            comment=comment or "",
            signer=user,
            signer_username=user.username,
            signer_name=user.printed_name,
            signed_at=now,
            content_hash=version.content_hash,
            method=signer.method,
            issuer=signer.issuer,
        )
        record_event(
            actor=user,
            action="segment.signed",
            object_type="segment",
            object_id=version.segment.key,
            after=signature_as_dict(signature),
            reason=comment or "",
        )
        if decision == Decision.REJECT:
            _move(version=version, action="reject", actor=user, reason=comment)
            voided = Signature.objects.filter(version=version, voided_at__isnull=True)
            voided_ids = list(voided.values_list("id", flat=True))
            voided.update(voided_at=now)
            record_event(
                actor=user,
                action="segment.signatures_voided",
                object_type="segment",
                object_id=version.segment.key,
                after={"version": version.number, "voided_signature_ids": voided_ids},
                reason="rejected: signatures never carry over",
            )
        elif _has_all_approvals(version):
            _move(version=version, action="approve", actor=user, reason="all teams approved")
    given.refresh_from_db()
    signature.refresh_from_db()
    return signature


def _has_all_approvals(version: SegmentVersion) -> bool:
    teams = set(
        Signature.objects.filter(
            version=version,
            voided_at__isnull=True,
            decision=Decision.APPROVE,
            content_hash=version.content_hash,
        ).values_list("team", flat=True)
    )
    return teams >= set(SIGNING_TEAMS)


def signature_as_dict(signature: Signature) -> dict:
    """The SIGNATURE shape of docs/api.md (used by the API and the audit trail)."""
    return {
        "version": signature.version.number,
        "team": signature.team,
        "decision": signature.decision,
        "meaning": signature.meaning,
        "comment": signature.comment,
        "signer_username": signature.signer_username,
        "signer_name": signature.signer_name,
        "signed_at": iso_z(signature.signed_at),
        "content_hash": signature.content_hash,
        "method": signature.method,
        "issuer": signature.issuer,
        "voided": signature.voided_at is not None,
    }


# --------------------------------------------------------------------------- activate, retire


def activate_version(*, user, version: SegmentVersion) -> SegmentVersion:
    """approved -> active, superseding the previous active version in the same transaction.

    Any brand user (the author included) or an admin may activate. The new
    active version is then recomputed (trigger ``activation``) after the swap
    commits: the recompute takes its own transaction, and holding the swap's
    locks (and the audit chain's) through a large recompute would stall every
    other writer. Content mappings that no longer pass the guards against the
    new version are revoked.
    """

    require(user, "activate_segment")
    with transaction.atomic():
        version = _locked(version)
        _check_transition(version, "activate")
        previous = (
            SegmentVersion.objects.select_for_update()
            .select_related("segment")
            .filter(segment_id=version.segment_id, state=S.ACTIVE)
            .first()
        )
        # The old one leaves "active" first: at most one active version per segment.
        if previous is not None:
            _move(
                version=previous,
                action="supersede",
                actor=user,
                reason=f"superseded by v{version.number}",
            )
        _move(
            version=version,
            action="activate",
            actor=user,
            extra={"supersedes": previous.number if previous else None},
        )
        content_services.revalidate_segment_mappings(version=version, actor=user)
    try:
        # Segments referencing this one (or with it as parent) now read the new
        # version's membership, so they are brought up to date with it.
        segment_services.recompute_with_dependents(version=version, trigger="activation", user=user)
    except Exception:
        # The activation stands (it committed); the scheduled recompute of active
        # versions catches up. A failed recompute must not turn into a 500 here.
        logger.exception("recompute after activating %s failed", version_ref(version))
    version.refresh_from_db()
    return version


def retire_version(*, user, version: SegmentVersion, reason: str = "") -> SegmentVersion:
    """active -> retired: recomputes stop and approved content mappings are revoked.

    The API takes an optional reason (docs/api.md); the page insists on one.
    """

    require(user, "retire_segment")
    reason = (reason or "").strip()
    with transaction.atomic():
        version = _locked(version)
        _move(version=version, action="retire", actor=user, reason=reason)
        content_services.revoke_mappings_for_segment(
            segment=version.segment,
            actor=user,
            reason=f"segment {version.segment.key} retired" + (f": {reason}" if reason else ""),
        )
    version.refresh_from_db()
    return version
