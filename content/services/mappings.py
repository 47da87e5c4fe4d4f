"""Content-to-segment mappings: propose, decide, revoke (docs/governance.md, "Mappings").

Brand proposes, compliance other than the proposer decides with an
e-signature. The four guards are checked on proposal and on approval; each
failing guard is one error naming it ("guard N: ...") with path ``asset``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from accounts.signing import Reauthentication, verify_signer
from audit.services import record_change, record_event
from core.errors import (
    Conflict,
    ErrorDetail,
    PermissionRefused,
    ValidationFailed,
    duplicates_refused,
)
from segmentation.models import Purpose, Segment, SegmentVersion, VersionState

from ..models import Audience, ContentAsset, ContentMapping, Intent, MappingState, MlrStatus
from ..signals import announce_mappings_changed

# Intent a segment purpose accepts (docs/governance.md, guard 3).
PURPOSE_INTENTS: dict[str, frozenset[str]] = {
    Purpose.PROMOTIONAL: frozenset({Intent.PROMOTIONAL, Intent.ACCESS_RESOURCE}),
    Purpose.MEDICAL_EDUCATION: frozenset({Intent.MEDICAL_EDUCATION}),
    Purpose.MARKET_ACCESS: frozenset({Intent.ACCESS_RESOURCE}),
}
# Segments reach HCPs (directly, or through their accounts): only hcp assets fit (guard 2).
SEGMENT_AUDIENCE = Audience.HCP


# --------------------------------------------------------------------------- mapping guards


def mapping_target_version(segment: Segment) -> SegmentVersion:
    """The version a mapping is checked against: the active one, else the latest approved."""
    versions = SegmentVersion.objects.select_related("segment").filter(segment=segment)
    version = versions.filter(state=VersionState.ACTIVE).first() or (
        versions.filter(state=VersionState.APPROVED).order_by("-number").first()
    )
    if version is None:
        raise Conflict(
            f"content can be mapped only to an active or approved segment; "
            f"{segment.key} has neither",
            path="segment",
        )
    return version


def mapping_guard_errors(
    *, asset: ContentAsset, version: SegmentVersion, now: datetime | None = None
) -> list[ErrorDetail]:
    """The guards of docs/governance.md that refuse this asset for this segment version."""
    errors: list[str] = []
    key = version.segment.key
    now = now or timezone.now()
    if asset.mlr_status != MlrStatus.APPROVED:
        errors.append(
            f"guard 1: asset {asset.code} is not approved (mlr_status {asset.mlr_status})"
        )
    elif asset.expires_at is not None and asset.expires_at <= now:
        errors.append(
            f"guard 1: asset {asset.code} has passed its expiry date "
            f"({asset.expires_at.isoformat()})"
        )
    if asset.audience != SEGMENT_AUDIENCE:
        # An account segment's content reaches the accounts' HCPs: hcp assets, as for customers.
        kind = (
            "account segments, like HCP segments,"
            if version.segment.unit == "account"
            else ("HCP segments")
        )
        errors.append(
            f"guard 2: asset {asset.code} audience '{asset.audience}' does not fit segment {key} "
            f"({kind} take only hcp assets)"
        )
    allowed_intents = PURPOSE_INTENTS.get(version.purpose, frozenset())
    if asset.intent not in allowed_intents:
        errors.append(
            f"guard 3: asset {asset.code} intent '{asset.intent}' does not fit the purpose "
            f"'{version.purpose}' of segment {key} (it takes {', '.join(sorted(allowed_intents))})"
        )
    if asset.intent == Intent.PROMOTIONAL:
        allowed = set(version.indications or [])
        off_label = [i for i in asset.indications or [] if i not in allowed]
        if off_label:
            errors.append(
                f"guard 4: off-label promotion: promotional asset {asset.code} names "
                f"indication(s) {', '.join(off_label)} not among segment {key}'s indications "
                f"({', '.join(sorted(allowed)) or 'none'})"
            )
    return [ErrorDetail(path="asset", message=m) for m in errors]


def _check_guards(*, asset: ContentAsset, version: SegmentVersion) -> None:
    errors = mapping_guard_errors(asset=asset, version=version)
    if errors:
        raise ValidationFailed(errors=errors, code="mapping_guard")


def mapping_snapshot(mapping: ContentMapping) -> dict:
    return {
        "asset": mapping.asset.code,
        "segment": mapping.segment.key,
        "segment_version": mapping.segment_version.number,
        "state": mapping.state,
        "rationale": mapping.rationale,
        "decision_comment": mapping.decision_comment,
        "signer_username": mapping.signer_username,
        "signature_meaning": mapping.signature_meaning,
        "signed_content_hash": mapping.signed_content_hash,
        "signature_method": mapping.signature_method,
        "signature_issuer": mapping.signature_issuer,
        "revoked_reason": mapping.revoked_reason,
    }


# --------------------------------------------------------------------------- mappings


def propose_mapping(
    *, user, asset: ContentAsset, segment: Segment, rationale: str
) -> ContentMapping:
    """A brand user proposes using an asset with an active or approved segment."""
    require(user, "propose_mapping")
    if not isinstance(rationale, str) or not rationale.strip():
        raise ValidationFailed("a rationale is required", path="rationale")
    with (
        duplicates_refused(
            f"asset {asset.code} is already proposed or approved for segment {segment.key}",
            path="asset",
        ),
        transaction.atomic(),
    ):
        version = mapping_target_version(segment)
        _check_guards(asset=asset, version=version)
        if ContentMapping.objects.filter(
            asset=asset,
            segment=segment,
            state__in=[MappingState.PROPOSED, MappingState.APPROVED],
        ).exists():
            raise Conflict(
                f"asset {asset.code} is already proposed or approved for segment {segment.key}",
                path="asset",
            )
        mapping = ContentMapping.objects.create(
            asset=asset,
            segment=segment,
            segment_version=version,
            rationale=rationale.strip(),
            proposed_by=user,
            proposed_at=timezone.now(),
        )
        record_event(
            actor=user,
            action="mapping.proposed",
            object_type="mapping",
            object_id=mapping.pk,
            after=mapping_snapshot(mapping),
            reason=mapping.rationale,
        )
    return mapping


def mapping_meaning(decision: str) -> str:
    return f"{decision} content-to-segment mapping for compliance"


def decide_mapping(
    *,
    user,
    mapping: ContentMapping,
    decision: str,
    comment: str = "",
    password: str | None,
    reauth: Reauthentication | None = None,
) -> ContentMapping:
    """Compliance (not the proposer) approves or rejects a proposal with an e-signature.

    Approval re-checks the four guards against the segment's current active
    (else approved) version, which the mapping then records; a rejection needs
    a comment. Wrong password: nothing decided, a failed attempt logged, 403. An SSO
    account signs with ``reauth`` instead of a password (accounts.signing).
    """
    require(user, "decide_mapping")
    if decision not in ("approve", "reject"):
        raise ValidationFailed(
            f"unknown decision '{decision}' (expected approve or reject)", path="decision"
        )
    if decision == "reject" and not (comment or "").strip():
        raise ValidationFailed("a rejection needs a comment", path="comment")

    def check(m: ContentMapping) -> SegmentVersion | None:
        if m.state != MappingState.PROPOSED:
            raise Conflict(f"only a proposed mapping can be decided; it is {m.state}", path="state")
        if m.proposed_by_id == user.pk:
            raise PermissionRefused(
                "separation of duties: the proposer cannot decide their own mapping",
                path="decided_by",
            )
        if decision == "approve":
            version = mapping_target_version(m.segment)
            _check_guards(asset=m.asset, version=version)
            return version
        return None

    check(mapping)
    signer = verify_signer(
        user=user,
        password=password,
        reauth=reauth,
        object_type="mapping",
        object_id=str(mapping.pk),
        attempted={"decision": decision},
    )
    with transaction.atomic():
        mapping = (
            ContentMapping.objects.select_for_update()
            .select_related("asset", "segment", "segment_version")
            .get(pk=mapping.pk)
        )
        # Lock the asset too, so an expiry or withdrawal cannot slip in between.
        ContentAsset.objects.select_for_update().filter(pk=mapping.asset_id).first()
        version = check(mapping)
        before = mapping_snapshot(mapping)
        mapping.state = MappingState.APPROVED if decision == "approve" else MappingState.REJECTED
        if version is not None:
            mapping.segment_version = version
        mapping.decided_by = user
        mapping.decided_at = timezone.now()
        mapping.decision_comment = (comment or "").strip()
        mapping.signer_username = user.username
        mapping.signer_name = user.printed_name
        mapping.signature_meaning = mapping_meaning(decision)
        mapping.signed_content_hash = mapping.segment_version.content_hash
        mapping.signature_method = signer.method
        mapping.signature_issuer = signer.issuer
        mapping.save()
        record_event(
            actor=user,
            action="mapping.approved" if decision == "approve" else "mapping.rejected",
            object_type="mapping",
            object_id=mapping.pk,
            before=before,
            after=mapping_snapshot(mapping),
            reason=mapping.decision_comment,
        )
        if decision == "approve":
            announce_mappings_changed(
                segment_keys=[mapping.segment.key],
                asset_codes=[mapping.asset.code],
                reason="approved",
            )
    return mapping


def _revoke(mappings, *, actor, reason: str) -> int:
    count = 0
    keys: set[str] = set()
    codes: set[str] = set()
    now = timezone.now()
    for mapping in mappings.select_for_update().select_related(
        "asset", "segment", "segment_version"
    ):

        def revoke(m: ContentMapping) -> None:
            m.state = MappingState.REVOKED
            m.revoked_reason = reason
            m.revoked_at = now
            m.save(update_fields=["state", "revoked_reason", "revoked_at"])

        record_change(
            actor=actor,
            action="mapping.revoked",
            obj=mapping,
            snapshot=mapping_snapshot,
            change=revoke,
            object_type="mapping",
            object_id=mapping.pk,
            reason=reason,
        )
        count += 1
        keys.add(mapping.segment.key)
        codes.add(mapping.asset.code)
    announce_mappings_changed(segment_keys=keys, asset_codes=codes, reason=reason)
    return count


def revoke_mappings_for_asset(*, asset: ContentAsset, actor, reason: str) -> int:
    """Revoke every approved mapping of an asset that expired or was withdrawn."""
    with transaction.atomic():
        return _revoke(
            ContentMapping.objects.filter(asset=asset, state=MappingState.APPROVED),
            actor=actor,
            reason=reason,
        )


def revoke_mappings_for_segment(*, segment: Segment, actor, reason: str) -> int:
    """Revoke every approved mapping of a segment that was retired."""
    with transaction.atomic():
        return _revoke(
            ContentMapping.objects.filter(segment=segment, state=MappingState.APPROVED),
            actor=actor,
            reason=reason,
        )


def revalidate_segment_mappings(*, version: SegmentVersion, actor) -> int:
    """After a new version is activated, revoke approved mappings it no longer fits.

    A new version may change purpose or indications; a mapping approved for
    the old one must not carry promotion into an unfit segment.
    """
    revoked = 0
    with transaction.atomic():
        approved = ContentMapping.objects.filter(
            segment_id=version.segment_id, state=MappingState.APPROVED
        ).select_related("asset")
        for mapping in approved:
            errors = mapping_guard_errors(asset=mapping.asset, version=version)
            if errors:
                revoked += _revoke(
                    ContentMapping.objects.filter(pk=mapping.pk),
                    actor=actor,
                    reason=f"version {version.number} activated: {errors[0].message}",
                )
    return revoked
