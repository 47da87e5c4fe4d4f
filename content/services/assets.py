"""Content assets: create, edit, MLR status, expiry (docs/governance.md, "Content assets").

Who may do what (the parts docs/governance.md records as our choice):
- compliance and admin create assets and edit them (``create_asset``, ``edit_asset``);
  only compliance moves ``expires_at`` (it decides how long an MLR approval runs);
- compliance and admin move an asset between draft and in_review (``review_asset``);
- only compliance records approval or withdrawal, with password re-entry
  (``set_asset_status``); approval may be recorded from draft, in_review or expired
  (MLR review itself happens in the MLR system; we record its outcome);
- ``expired`` is never set by hand: it follows the expiry date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import allowed, require
from accounts.signing import Reauthentication, verify_signer
from audit.services import record_change, record_event
from core.errors import (
    Conflict,
    ErrorDetail,
    PermissionRefused,
    ValidationFailed,
    duplicates_refused,
)
from core.time import parse_moment
from core.words import with_article
from customers.vocabularies import Channel, Indication

from ..models import Audience, ContentAsset, Intent, MlrStatus
from .files import FileTampered, clean_link, clean_upload, file_sha256, verified_file_bytes
from .lifecycle import effective_status, is_due
from .mappings import revoke_mappings_for_asset

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# What MLR approved: fixed once an asset leaves draft/in_review. A change is
# refused (our choice, docs/governance.md "Integrity and access controls"): a new
# version of approved content is a new asset code going through MLR again.
CONTENT_FIELDS = (
    "title",
    "audience",
    "intent",
    "therapy_area",
    "indications",
    "channels",
    "mlr_reference",
    "link",
    "file",
)
EDITABLE_FIELDS = CONTENT_FIELDS + ("expires_at",)


# --------------------------------------------------------------------------- parsing


# An asset names the channels its MLR approval covers; there is no "any channel".
NO_CHANNEL = "name at least one channel the asset is approved for"


def parse_expiry(value: Any, *, path: str = "expires_at") -> datetime | None:
    """``YYYY-MM-DD`` means 00:00 UTC that day; a datetime without offset is read as UTC."""
    if value in (None, ""):
        return None
    return parse_moment(value, path=path)


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
                cleaned[key] = _string_list(value, key, frozenset(Indication.values))
            elif key == "channels":
                cleaned[key] = _string_list(value, key, frozenset(Channel.values))
                if not cleaned[key]:
                    fail(key, NO_CHANNEL)
            elif key == "expires_at":
                cleaned[key] = parse_expiry(value)
            elif key == "link":
                cleaned[key] = clean_link(value)
            elif key == "file":
                cleaned[key] = clean_upload(value)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def clean_asset_fields(data: dict) -> dict:
    """Validate editable asset fields as create and edit do (the assets import uses it)."""
    return _clean_asset_fields(data)


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
        "link": asset.link,
        "file": asset.file.name if asset.file else "",
        "file_sha256": asset.file_sha256,
        "mlr_signature_method": asset.mlr_signature_method,
        "mlr_signature_issuer": asset.mlr_signature_issuer,
    }


def _differs(asset: ContentAsset, field: str, value: Any) -> bool:
    if field == "file":
        # Any upload is a new file; clearing an existing file is a change too.
        return bool(value) or bool(asset.file)
    return value != getattr(asset, field)


def _record_asset_change(
    *, asset: ContentAsset, actor, action: str, change: Callable[[ContentAsset], None], reason=""
) -> ContentAsset:
    """Apply ``change`` to a locked asset and audit it with full before/after snapshots."""
    return record_change(
        actor=actor,
        action=action,
        obj=asset,
        snapshot=asset_snapshot,
        change=change,
        object_type="asset",
        object_id=asset.code,
        reason=reason,
    )


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
    if not data.get("channels"):
        errors.append(ErrorDetail("channels", NO_CHANNEL))
    try:
        cleaned = _clean_asset_fields({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    except ValidationFailed as exc:
        errors.extend(e for e in exc.errors if e not in errors)
    if errors:
        raise ValidationFailed(errors=errors)
    code = code.strip()
    with (
        duplicates_refused(f"an asset with code {code} already exists", path="code"),
        transaction.atomic(),
    ):
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
            f for f in CONTENT_FIELDS if f in cleaned and _differs(asset, f, cleaned[f])
        ]
        if asset.mlr_status == MlrStatus.APPROVED and "expires_at" in cleaned:
            if cleaned["expires_at"] is None:
                # Approval needs an expiry date; clearing it would keep the asset approved
                # for ever. An asset to stop using at once is withdrawn (or given a past date).
                raise ValidationFailed(
                    "an approved asset keeps an expiry date (approval requires one); "
                    "set a date, or withdraw the asset",
                    path="expires_at",
                )
        if locked and changed_content:
            raise Conflict(
                f"{with_article(asset.mlr_status)} asset's content is fixed by its MLR record; "
                f"'{changed_content[0]}' can only change while draft or in_review "
                "(create a new asset for new content)",
                path=changed_content[0],
            )

        def edit(a: ContentAsset) -> None:
            for field, value in cleaned.items():
                setattr(a, field, value)
            a.save()

        _record_asset_change(asset=asset, actor=user, action="asset.updated", change=edit)
        if is_due(asset):
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


def status_moves(*, user, asset: ContentAsset) -> list[str]:
    """The statuses ``user`` may move ``asset`` to now (what a status form offers)."""
    effective = effective_status(asset)
    return [
        target
        for target, (sources, action) in _STATUS_MOVES.items()
        if effective in sources and allowed(user, action)
    ]


def set_asset_status(
    *,
    user,
    asset: ContentAsset,
    status: str,
    reason: str = "",
    password: str | None = None,
    mlr_reference: str | None = None,
    reauth: Reauthentication | None = None,
) -> ContentAsset:
    """Record an MLR status change.

    approved: compliance, password, a future ``expires_at``; withdrawn: compliance,
    password, a reason (approved mappings are revoked). draft <-> in_review:
    compliance or admin. ``expired`` only follows the expiry date. An SSO account
    signs with ``reauth`` instead of a password (accounts.signing).
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
    signer = None
    if status in _SIGNED_STATUSES:
        signer = verify_signer(
            user=user,
            password=password,
            reauth=reauth,
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

        def move(a: ContentAsset) -> None:
            a.mlr_status = status
            if signer is not None:
                a.mlr_signature_method = signer.method
                a.mlr_signature_issuer = signer.issuer
            if status == MlrStatus.APPROVED:
                a.mlr_approved_at = timezone.now()
                a.file_sha256 = file_sha256(a.file)
                a.withdrawn_reason = ""
                if mlr_reference:
                    a.mlr_reference = mlr_reference.strip()[:100]
            if status == MlrStatus.WITHDRAWN:
                a.withdrawn_reason = reason.strip()
            a.save()

        _record_asset_change(
            asset=asset,
            actor=user,
            action=f"asset.{_STATUS_EVENT[status]}",
            change=move,
            reason=reason or "",
        )
        if status == MlrStatus.WITHDRAWN:
            revoke_mappings_for_asset(
                asset=asset, actor=user, reason=f"asset {asset.code} withdrawn: {reason.strip()}"
            )
    return asset


def asset_file_bytes(*, user, asset: ContentAsset) -> bytes:
    """The asset's file, refused (409, and audited) when it differs from what MLR approved."""
    require(user, "view_assets")
    try:
        return verified_file_bytes(asset)
    except FileTampered:
        record_event(
            actor=user,
            action="asset.file_refused",
            object_type="asset",
            object_id=asset.code,
            after={"recorded_sha256": asset.file_sha256, "actual_sha256": file_sha256(asset.file)},
            reason="stored file does not match the SHA-256 recorded at approval",
        )
        raise


def _expire(*, asset: ContentAsset, actor) -> None:

    def expire(a: ContentAsset) -> None:
        a.mlr_status = MlrStatus.EXPIRED
        a.save(update_fields=["mlr_status", "updated_at"])

    _record_asset_change(
        asset=asset,
        actor=actor,
        action="asset.expired",
        change=expire,
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
