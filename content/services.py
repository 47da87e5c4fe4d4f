"""Content writes: assets and their MLR status, mappings to segments, expiry and revocation.

Who may do what (governance.md leaves part of it to us):
- compliance and admin create assets and edit them (``create_asset``, ``edit_asset``);
  only compliance moves ``expires_at`` (it decides how long an MLR approval runs);
- compliance and admin move an asset between draft and in_review (``review_asset``);
- only compliance records approval or withdrawal, with password re-entry
  (``set_asset_status``); approval may be recorded from draft, in_review or expired
  (MLR review itself happens in the MLR system; we record its outcome);
- ``expired`` is never set by hand: it follows the expiry date;
- brand proposes mappings, compliance other than the proposer decides them.

The four mapping guards (governance.md) are checked on proposal and on approval;
each failing guard is one error naming it ("guard N: ...") with path ``asset``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.permissions import require
from audit.services import record_event
from audit.signing import verify_signing_password
from core.errors import Conflict, ErrorDetail, PermissionRefused, ValidationFailed
from customers.vocabularies import Channel
from segmentation.models import Purpose, Segment, SegmentVersion, VersionState

from .models import Audience, ContentAsset, ContentMapping, Intent, MappingState, MlrStatus
from .signals import announce_mappings_changed

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Intent a segment purpose accepts (governance.md, guard 3).
PURPOSE_INTENTS: dict[str, frozenset[str]] = {
    Purpose.PROMOTIONAL: frozenset({Intent.PROMOTIONAL, Intent.ACCESS_RESOURCE}),
    Purpose.MEDICAL_EDUCATION: frozenset({Intent.MEDICAL_EDUCATION}),
    Purpose.MARKET_ACCESS: frozenset({Intent.ACCESS_RESOURCE}),
}
# Every segment's unit is the customer (an HCP), so only hcp assets fit (guard 2).
SEGMENT_AUDIENCE = Audience.HCP

CONTENT_FIELDS = ("title", "audience", "intent", "therapy_area", "indications", "channels")
EDITABLE_FIELDS = CONTENT_FIELDS + ("mlr_reference", "expires_at", "link", "file")


# --------------------------------------------------------------------------- parsing


def parse_expiry(value: Any, *, path: str = "expires_at") -> datetime | None:
    """``YYYY-MM-DD`` means 00:00 UTC that day; a datetime without offset is read as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        text = value.strip()
        moment = None
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is not None:
            moment = datetime.combine(day, time.min)
        else:
            try:
                moment = parse_datetime(text.replace("z", "Z"))
            except ValueError:
                moment = None
        if moment is None:
            raise ValidationFailed(
                f"'{value}' is not a date (YYYY-MM-DD) or ISO 8601 date-time", path=path
            )
    else:
        raise ValidationFailed("expected a date (YYYY-MM-DD) or ISO 8601 date-time", path=path)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _string_list(value: Any, path: str, vocabulary: frozenset[str] | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationFailed("expected a list of non-empty strings", path=path)
    items = [v.strip() for v in value]
    if vocabulary is not None:
        for i, item in enumerate(items):
            if item not in vocabulary:
                raise ValidationFailed(
                    f"unknown value '{item}' (expected one of {', '.join(sorted(vocabulary))})",
                    path=f"{path}[{i}]",
                )
    return list(dict.fromkeys(items))


def _clean_asset_fields(data: dict) -> dict:
    """Validate the editable asset fields present in ``data``; return cleaned values."""
    cleaned: dict[str, Any] = {}
    errors: list[ErrorDetail] = []

    def fail(path: str, message: str) -> None:
        errors.append(ErrorDetail(path=path, message=message))

    for key, value in data.items():
        try:
            if key == "title":
                if not isinstance(value, str) or not value.strip() or len(value) > 300:
                    fail(key, "a title of 1-300 characters is required")
                else:
                    cleaned[key] = value.strip()
            elif key == "audience":
                if value not in Audience.values:
                    fail(
                        key, f"unknown audience '{value}' (expected hcp, patient, caregiver, payer)"
                    )
                else:
                    cleaned[key] = value
            elif key == "intent":
                if value not in Intent.values:
                    fail(
                        key,
                        f"unknown intent '{value}' "
                        "(expected promotional, medical_education, access_resource)",
                    )
                else:
                    cleaned[key] = value
            elif key in ("therapy_area", "mlr_reference"):
                if value is None:
                    value = ""
                if not isinstance(value, str) or len(value) > 100:
                    fail(key, "expected text of at most 100 characters")
                else:
                    cleaned[key] = value.strip()
            elif key == "indications":
                cleaned[key] = _string_list(value, key)
            elif key == "channels":
                cleaned[key] = _string_list(value, key, frozenset(Channel.values))
            elif key == "expires_at":
                cleaned[key] = parse_expiry(value)
            elif key == "link":
                cleaned[key] = (value or "").strip()
            elif key == "file":
                cleaned[key] = value
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def asset_snapshot(asset: ContentAsset) -> dict:
    return {
        "code": asset.code,
        "title": asset.title,
        "audience": asset.audience,
        "intent": asset.intent,
        "therapy_area": asset.therapy_area,
        "indications": asset.indications,
        "channels": asset.channels,
        "mlr_status": asset.mlr_status,
        "mlr_reference": asset.mlr_reference,
        "mlr_approved_at": asset.mlr_approved_at,
        "expires_at": asset.expires_at,
        "withdrawn_reason": asset.withdrawn_reason,
    }


# --------------------------------------------------------------------------- assets


def create_asset(*, user, data: dict) -> ContentAsset:
    """Create an asset in ``draft`` (compliance, admin). Status fields in ``data`` are ignored."""
    require(user, "create_asset")
    code = data.get("code")
    errors = []
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        errors.append(ErrorDetail("code", "a code of letters, digits, '-', '_' or '.' is required"))
    for required in ("title", "audience", "intent"):
        if data.get(required) in (None, ""):
            errors.append(ErrorDetail(required, "this field is required"))
    if errors:
        raise ValidationFailed(errors=errors)
    code = code.strip()
    cleaned = _clean_asset_fields({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    with transaction.atomic():
        if ContentAsset.objects.filter(code__iexact=code).exists():
            raise ValidationFailed(f"an asset with code {code} already exists", path="code")
        asset = ContentAsset.objects.create(
            code=code, mlr_status=MlrStatus.DRAFT, created_by=user, **cleaned
        )
        record_event(
            actor=user,
            action="asset.created",
            object_type="asset",
            object_id=asset.code,
            after=asset_snapshot(asset),
        )
    return asset


def update_asset(*, user, asset: ContentAsset, data: dict) -> ContentAsset:
    """Edit an asset. Content fields only while draft or in review; ``expires_at`` by compliance.

    A past ``expires_at`` on an approved asset expires it at once, revoking its mappings.
    """
    require(user, "edit_asset")
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationFailed(
            "field cannot be edited here (MLR status changes go through /status/)",
            path=unknown[0],
        )
    if "expires_at" in data and not user.has_role("compliance"):
        raise PermissionRefused(
            "only compliance may change an asset's expiry date", path="expires_at"
        )
    cleaned = _clean_asset_fields(data)
    with transaction.atomic():
        asset = ContentAsset.objects.select_for_update().get(pk=asset.pk)
        locked = asset.mlr_status not in (MlrStatus.DRAFT, MlrStatus.IN_REVIEW)
        changed_content = [
            f for f in CONTENT_FIELDS if f in cleaned and cleaned[f] != getattr(asset, f)
        ]
        if locked and changed_content:
            raise Conflict(
                f"an {asset.mlr_status} asset's content is fixed by its MLR record; "
                f"'{changed_content[0]}' can only change while draft or in_review",
                path=changed_content[0],
            )
        before = asset_snapshot(asset)
        for field, value in cleaned.items():
            setattr(asset, field, value)
        asset.save()
        record_event(
            actor=user,
            action="asset.updated",
            object_type="asset",
            object_id=asset.code,
            before=before,
            after=asset_snapshot(asset),
        )
        if _is_due(asset):
            _expire(asset=asset, actor=user)
    return asset


_STATUS_MOVES: dict[str, tuple[frozenset[str], str]] = {
    # target -> (states it may come from, permission action)
    MlrStatus.IN_REVIEW: (frozenset({MlrStatus.DRAFT}), "review_asset"),
    MlrStatus.DRAFT: (frozenset({MlrStatus.IN_REVIEW}), "review_asset"),
    MlrStatus.APPROVED: (
        frozenset({MlrStatus.DRAFT, MlrStatus.IN_REVIEW, MlrStatus.EXPIRED}),
        "set_asset_status",
    ),
    MlrStatus.WITHDRAWN: (
        frozenset({MlrStatus.DRAFT, MlrStatus.IN_REVIEW, MlrStatus.APPROVED, MlrStatus.EXPIRED}),
        "set_asset_status",
    ),
}
_STATUS_EVENT = {
    MlrStatus.IN_REVIEW: "submitted_for_review",
    MlrStatus.DRAFT: "returned_to_draft",
    MlrStatus.APPROVED: "approved",
    MlrStatus.WITHDRAWN: "withdrawn",
}
# Approval and withdrawal are compliance's e-signed records; the password is re-entered.
_SIGNED_STATUSES = frozenset({MlrStatus.APPROVED, MlrStatus.WITHDRAWN})


def set_asset_status(
    *,
    user,
    asset: ContentAsset,
    status: str,
    reason: str = "",
    password: str | None = None,
    mlr_reference: str | None = None,
) -> ContentAsset:
    """Record an MLR status change.

    approved: compliance, password, a future ``expires_at``; withdrawn: compliance,
    password, a reason (approved mappings are revoked). draft <-> in_review:
    compliance or admin. ``expired`` only follows the expiry date.
    """
    if status == MlrStatus.EXPIRED:
        require(user, "set_asset_status")
        raise ValidationFailed(
            "an asset expires by its expiry date; set expires_at instead", path="status"
        )
    if status not in _STATUS_MOVES:
        require(user, "review_asset")
        raise ValidationFailed(
            f"unknown status '{status}' (expected draft, in_review, approved or withdrawn)",
            path="status",
        )
    sources, action = _STATUS_MOVES[status]
    require(user, action)
    effective = effective_status(asset)
    if effective not in sources:
        raise Conflict(
            f"an asset can move to {status} only from {', '.join(sorted(sources))}; "
            f"{asset.code} is {effective}",
            path="status",
        )
    if status == MlrStatus.WITHDRAWN and not (reason or "").strip():
        raise ValidationFailed("a withdrawal needs a reason", path="reason")
    if status == MlrStatus.APPROVED:
        if asset.expires_at is None or asset.expires_at <= timezone.now():
            raise ValidationFailed(
                "approval requires a future expiry date (set expires_at first)", path="expires_at"
            )
    if status in _SIGNED_STATUSES:
        verify_signing_password(
            user=user,
            password=password,
            object_type="asset",
            object_id=asset.code,
            attempted={"status": status},
        )
    with transaction.atomic():
        asset = ContentAsset.objects.select_for_update().get(pk=asset.pk)
        if effective_status(asset) not in sources:
            raise Conflict(
                f"{asset.code} changed meanwhile; it is {asset.mlr_status}", path="status"
            )
        before = asset_snapshot(asset)
        asset.mlr_status = status
        if status == MlrStatus.APPROVED:
            asset.mlr_approved_at = timezone.now()
            asset.withdrawn_reason = ""
            if mlr_reference:
                asset.mlr_reference = mlr_reference.strip()[:100]
        if status == MlrStatus.WITHDRAWN:
            asset.withdrawn_reason = reason.strip()
        asset.save()
        record_event(
            actor=user,
            action=f"asset.{_STATUS_EVENT[status]}",
            object_type="asset",
            object_id=asset.code,
            before=before,
            after=asset_snapshot(asset),
            reason=reason or "",
        )
        if status == MlrStatus.WITHDRAWN:
            revoke_mappings_for_asset(
                asset=asset, actor=user, reason=f"asset {asset.code} withdrawn: {reason.strip()}"
            )
    return asset


def effective_status(asset: ContentAsset, now: datetime | None = None) -> str:
    """The status an asset has *now*: an approved asset past its expiry date is expired."""
    if _is_due(asset, now):
        return MlrStatus.EXPIRED
    return asset.mlr_status


def _is_due(asset: ContentAsset, now: datetime | None = None) -> bool:
    return (
        asset.mlr_status == MlrStatus.APPROVED
        and asset.expires_at is not None
        and asset.expires_at <= (now or timezone.now())
    )


def _expire(*, asset: ContentAsset, actor) -> None:
    before = asset_snapshot(asset)
    asset.mlr_status = MlrStatus.EXPIRED
    asset.save(update_fields=["mlr_status", "updated_at"])
    record_event(
        actor=actor,
        action="asset.expired",
        object_type="asset",
        object_id=asset.code,
        before=before,
        after=asset_snapshot(asset),
        reason=f"expiry date {asset.expires_at.isoformat()} reached",
    )
    revoke_mappings_for_asset(
        asset=asset,
        actor=actor,
        reason=f"asset {asset.code} expired on {asset.expires_at.isoformat()}",
    )


def expire_due_assets(*, now: datetime | None = None) -> list[str]:
    """Expire every approved asset whose expiry date has passed; revoke their mappings.

    Run by the beat task ``content.tasks.expire_assets`` and before every read
    of assets, mappings and field views (so nothing expired is served between
    runs). Cheap when nothing is due: one indexed query.
    """
    now = now or timezone.now()
    due = ContentAsset.objects.filter(mlr_status=MlrStatus.APPROVED, expires_at__lte=now)
    if not due.exists():
        return []
    expired: list[str] = []
    with transaction.atomic():
        for asset in due.select_for_update().order_by("code"):
            _expire(asset=asset, actor=None)
            expired.append(asset.code)
    return expired


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
    """The guards of governance.md that refuse this asset for this segment version."""
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
        errors.append(
            f"guard 2: asset {asset.code} audience '{asset.audience}' does not fit segment {key} "
            "(HCP segments take only hcp assets)"
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
    with transaction.atomic():
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
    *, user, mapping: ContentMapping, decision: str, comment: str = "", password: str | None
) -> ContentMapping:
    """Compliance (not the proposer) approves or rejects a proposal with an e-signature.

    Approval re-checks the four guards against the segment's current active
    (else approved) version, which the mapping then records; a rejection needs
    a comment. Wrong password: nothing decided, a failed attempt logged, 403.
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
    verify_signing_password(
        user=user,
        password=password,
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
        before = mapping_snapshot(mapping)
        mapping.state = MappingState.REVOKED
        mapping.revoked_reason = reason
        mapping.revoked_at = now
        mapping.save(update_fields=["state", "revoked_reason", "revoked_at"])
        record_event(
            actor=actor,
            action="mapping.revoked",
            object_type="mapping",
            object_id=mapping.pk,
            before=before,
            after=mapping_snapshot(mapping),
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
