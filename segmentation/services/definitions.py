"""Segment definitions: create a segment with its first draft, edit drafts (docs/governance.md).

Choices made where the rules are silent:

* Cycles are checked over every segment's latest *and* active version edges,
  since references resolve to the active version.
* An in-place edit of a draft keeps the draft's author; a new draft opened
  from an approved/active version is authored by the editor.
* ``preview`` is a reserved key (``/api/v1/segments/preview/``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from accounts.permissions import require
from audit.services import record_event
from core.errors import Conflict, ErrorDetail, ValidationFailed, duplicates_refused
from customers.vocabularies import Indication

from .. import selectors
from ..models import (
    Purpose,
    Rollup,
    Segment,
    SegmentVersion,
    Unit,
    VersionState,
)
from ..provenance import edited as edited_provenance
from ..provenance import resolve_provenance
from ..rules import referenced_segments, validate_rule

logger = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# /api/v1/segments/preview/ would shadow a segment with this key.
RESERVED_KEYS = frozenset({"preview"})
DEFINITION_FIELDS = (
    "name",
    "description",
    "purpose",
    "therapy_area",
    "indications",
    "parent",
    "entry_rule",
    "exit_rule",
    "rollup",
)


# --- definitions: create and edit ------------------------------------------


def content_hash(
    *,
    name: str,
    description: str,
    purpose: str,
    therapy_area: str,
    indications: Sequence[str],
    parent: str | None,
    entry_rule: Any,
    exit_rule: Any,
    rollup: str | None = None,
) -> str:
    """SHA-256 of the canonical JSON of a version's content (what signatures are bound to).

    ``rollup`` is part of an account segment's content only (None for customer
    segments, whose hashes are unchanged by it).
    """
    content = {
        "name": name,
        "description": description,
        "purpose": purpose,
        "therapy_area": therapy_area,
        "indications": list(indications),
        "parent": parent,
        "entry_rule": entry_rule,
        "exit_rule": exit_rule,
    }
    if rollup is not None:
        content["rollup"] = rollup
    body = json.dumps(
        content,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def version_content(version: SegmentVersion) -> dict[str, Any]:
    """A version's content as plain data (the fields the content hash covers)."""
    content = {
        "name": version.name,
        "description": version.description,
        "purpose": version.purpose,
        "therapy_area": version.therapy_area,
        "indications": list(version.indications or []),
        "parent": version.parent.key if version.parent_id else None,
        "entry_rule": version.entry_rule,
        "exit_rule": version.exit_rule,
    }
    if version.segment.unit == Unit.ACCOUNT:
        content["rollup"] = version.rollup
    return content


def _snapshot(version: SegmentVersion) -> dict[str, Any]:
    out = {
        "version": version.number,
        "state": version.state,
        **version_content(version),
        "content_hash": version.content_hash,
    }
    if version.provenance:
        out["provenance"] = version.provenance
    return out


def _clean_definition(
    data: dict[str, Any], *, key: str, errors: list[ErrorDetail], unit: str = Unit.CUSTOMER
) -> dict[str, Any]:
    """Check types and vocabularies of a full definition; append errors, return cleaned values."""

    out: dict[str, Any] = {}
    rollup = data.get("rollup")
    if unit == Unit.ACCOUNT:
        if rollup is None:
            out["rollup"] = Rollup.DIRECT
        elif rollup not in Rollup.values:
            errors.append(
                ErrorDetail(
                    "rollup",
                    f"unknown rollup {rollup!r} (expected one of {', '.join(Rollup.values)})",
                )
            )
        else:
            out["rollup"] = rollup
    elif rollup is not None:
        errors.append(ErrorDetail("rollup", "only account segments have a rollup"))

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(ErrorDetail("name", "required: a non-empty string"))
    elif len(name.strip()) > 200:
        errors.append(ErrorDetail("name", "at most 200 characters"))
    else:
        out["name"] = name.strip()

    for text_field, limit in (("description", None), ("therapy_area", 100)):
        value = data.get(text_field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append(ErrorDetail(text_field, "must be a string"))
        elif limit is not None and len(value.strip()) > limit:
            errors.append(ErrorDetail(text_field, f"at most {limit} characters"))
        else:
            out[text_field] = value.strip()

    purpose = data.get("purpose")
    if purpose not in Purpose.values:
        errors.append(
            ErrorDetail(
                "purpose",
                f"unknown purpose {purpose!r} (expected one of {', '.join(Purpose.values)})",
            )
        )
    else:
        out["purpose"] = purpose

    indications = data.get("indications")
    if indications is None:
        indications = []
    if isinstance(indications, str) or not isinstance(indications, (list, tuple)):
        errors.append(ErrorDetail("indications", "must be a list of strings"))
    else:
        cleaned: list[str] = []
        for i, item in enumerate(indications):
            if not isinstance(item, str) or not item.strip():
                errors.append(ErrorDetail(f"indications[{i}]", "must be a non-empty string"))
            elif item.strip() not in Indication.values:
                errors.append(
                    ErrorDetail(
                        f"indications[{i}]",
                        f"unknown indication '{item.strip()}' (docs/governance.md lists them)",
                    )
                )
            elif item.strip() not in cleaned:
                cleaned.append(item.strip())
        out["indications"] = cleaned

    parent_key = data.get("parent")
    out["parent"] = None
    if parent_key is not None:
        if not isinstance(parent_key, str):
            errors.append(ErrorDetail("parent", "must be a segment key or null"))
        elif parent_key == key:
            errors.append(ErrorDetail("parent", "a segment cannot be its own parent"))
        else:
            parent = Segment.objects.filter(key=parent_key).first()
            if parent is None:
                errors.append(ErrorDetail("parent", f"unknown segment '{parent_key}'"))
            elif parent.unit != unit:
                errors.append(
                    ErrorDetail(
                        "parent",
                        f"'{parent_key}' is a {parent.unit} segment; expected a {unit} one",
                    )
                )
            else:
                out["parent"] = parent

    def segment_exists(ref: str) -> bool:
        # The segment being defined counts as existing so that a self-reference
        # is reported as the cycle it is rather than as an unknown segment.
        return ref == key or Segment.objects.filter(key=ref).exists()

    def segment_unit(ref: str) -> str | None:
        if ref == key:
            return unit
        return Segment.objects.filter(key=ref).values_list("unit", flat=True).first()

    for rule_field in ("entry_rule", "exit_rule"):
        rule = data.get(rule_field)
        if rule is None:
            if rule_field == "entry_rule":
                errors.append(ErrorDetail("entry_rule", "required"))
            out[rule_field] = None
            continue
        try:
            validate_rule(
                rule,
                path=rule_field,
                segment_exists=segment_exists,
                unit=unit,
                segment_unit=segment_unit,
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        else:
            out[rule_field] = rule
    return out


def _check_no_cycle(*, key: str, cleaned: dict[str, Any], errors: list[ErrorDetail]) -> None:
    """Refuse a definition whose references or parent close a cycle through ``key``."""

    graph = selectors.segment_graph()
    by_origin: list[tuple[str, set[str]]] = []
    for rule_field in ("entry_rule", "exit_rule"):
        if cleaned.get(rule_field) is not None:
            by_origin.append((rule_field, set(referenced_segments(cleaned[rule_field]))))
    if cleaned.get("parent") is not None:
        by_origin.append(("parent", {cleaned["parent"].key}))
    graph[key] = set().union(*(targets for _, targets in by_origin)) if by_origin else set()
    for origin, targets in by_origin:
        for target in sorted(targets):
            if target == key:
                errors.append(ErrorDetail(origin, f"segment '{key}' cannot depend on itself"))
                return
            sub = dict(graph)
            sub[key] = {target}
            cycle = selectors.find_cycle(sub, key)
            if cycle:
                errors.append(
                    ErrorDetail(
                        origin,
                        f"'{target}' creates a cycle of segment references and parents: "
                        + " -> ".join(cycle),
                    )
                )
                return


def _validated(data: dict[str, Any], *, key: str, unit: str = Unit.CUSTOMER) -> dict[str, Any]:
    errors: list[ErrorDetail] = []
    cleaned = _clean_definition(data, key=key, errors=errors, unit=unit)
    if not errors:
        _check_no_cycle(key=key, cleaned=cleaned, errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _hash_of(cleaned: dict[str, Any]) -> str:
    return content_hash(
        name=cleaned["name"],
        description=cleaned["description"],
        purpose=cleaned["purpose"],
        therapy_area=cleaned["therapy_area"],
        indications=cleaned["indications"],
        parent=cleaned["parent"].key if cleaned["parent"] is not None else None,
        entry_rule=cleaned["entry_rule"],
        exit_rule=cleaned["exit_rule"],
        rollup=cleaned.get("rollup"),
    )


def segment_create(
    *,
    user,
    key: str,
    name: str,
    purpose: str,
    entry_rule: Any,
    exit_rule: Any = None,
    parent: str | None = None,
    description: str = "",
    therapy_area: str = "",
    indications: Iterable[str] = (),
    provenance: Any = None,
    unit: str = Unit.CUSTOMER,
    rollup: str | None = None,
) -> Segment:
    """Create a segment with draft version 1 authored by ``user``.

    Validates the key, the definition (rules through the engine's
    ``validate_rule``) and that no cycle of references and parents appears;
    every problem is reported at once with its field path. ``provenance``
    (``{"discovery": ID, "persona"?: INDEX}``) is resolved by the resolver a
    higher floor registered (``segmentation.provenance``) and stored on the
    version; the save is audited against the discovery run too. ``unit``
    (``customer`` or ``account``) is fixed here for good; ``rollup`` is an
    account segment's (docs/rules.md, "Account segments").
    """
    require(user, "edit_segment")
    resolved = resolve_provenance(user=user, provenance=provenance, entry_rule=entry_rule)
    key_errors: list[ErrorDetail] = []
    if not isinstance(key, str) or not KEY_RE.match(key):
        key_errors.append(
            ErrorDetail("key", "must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, ...)")
        )
        key = key if isinstance(key, str) else ""
    elif key in RESERVED_KEYS:
        key_errors.append(ErrorDetail("key", f"'{key}' is reserved by the API"))
    elif Segment.objects.filter(key=key).exists():
        key_errors.append(ErrorDetail("key", f"a segment with key '{key}' already exists"))
    if unit not in Unit.values:
        key_errors.append(
            ErrorDetail("unit", f"unknown unit {unit!r} (expected one of customer, account)")
        )
        unit = Unit.CUSTOMER
    data = {
        "name": name,
        "description": description,
        "purpose": purpose,
        "therapy_area": therapy_area,
        "indications": list(indications) if isinstance(indications, (list, tuple)) else indications,
        "parent": parent,
        "entry_rule": entry_rule,
        "exit_rule": exit_rule,
        "rollup": rollup,
    }
    try:
        cleaned = _validated(data, key=key, unit=unit)
    except ValidationFailed as exc:
        raise ValidationFailed(errors=key_errors + exc.errors) from None
    if key_errors:
        raise ValidationFailed(errors=key_errors)

    with (
        duplicates_refused(f"a segment with key {key} already exists", path="key"),
        transaction.atomic(),
    ):
        segment = Segment.objects.create(key=key, created_by=user, unit=unit)
        version = SegmentVersion.objects.create(
            segment=segment,
            number=1,
            state=VersionState.DRAFT,
            author=user,
            content_hash=_hash_of(cleaned),
            provenance=resolved,
            **cleaned,
        )
        record_event(
            actor=user,
            action="segment.created",
            object_type="segment",
            object_id=key,
            after=_snapshot(version),
        )
        if resolved:
            record_event(
                actor=user,
                action="discovery_run.saved",
                object_type="discovery_run",
                object_id=resolved.get("discovery"),
                after={"segment": key, "version": 1, "provenance": resolved},
            )
    return segment


def segment_update(*, user, segment: Segment, **changes: Any) -> SegmentVersion:
    """Edit a segment's definition; returns the draft version that holds the edit.

    The latest draft is edited in place. When the latest version is approved,
    active, superseded or retired a new draft N+1 copying it is opened (the
    active version keeps running until its successor is activated). A version
    in review cannot be edited. A key given as null (``exit_rule``, ``parent``)
    means none; a key left out keeps its value.
    """
    require(user, "edit_segment")
    unknown = sorted(set(changes) - set(DEFINITION_FIELDS))
    if unknown:
        raise ValidationFailed(
            errors=[ErrorDetail(k, "unknown field; cannot be changed") for k in unknown]
        )
    with transaction.atomic():
        latest = (
            SegmentVersion.objects.select_for_update()
            .filter(segment=segment)
            .order_by("-number")
            .first()
        )
        if latest is None:  # never happens through services; kept for a clear message
            raise Conflict("segment has no version", path="")
        if latest.state == VersionState.IN_REVIEW:
            raise Conflict("only a draft can be edited; reject it or wait for the review", path="")
        data = version_content(latest)
        data_before = dict(data)
        data.update(changes)
        cleaned = _validated(data, key=segment.key, unit=segment.unit)
        new_hash = _hash_of(cleaned)
        rule_changed = (
            any(cleaned[f] != data_before[f] for f in ("entry_rule", "exit_rule"))
            or cleaned.get("rollup") != data_before.get("rollup")
            or (cleaned["parent"].key if cleaned["parent"] else None) != data_before["parent"]
        )
        provenance = edited_provenance(latest.provenance) if rule_changed else latest.provenance

        if latest.state == VersionState.DRAFT:
            before = _snapshot(latest)
            if new_hash == latest.content_hash:
                return latest  # nothing changed: nothing to record
            for name, value in cleaned.items():
                setattr(latest, name, value)
            latest.content_hash = new_hash
            latest.provenance = provenance
            latest.save()
            record_event(
                actor=user,
                action="segment.updated",
                object_type="segment",
                object_id=segment.key,
                before=before,
                after=_snapshot(latest),
            )
            return latest

        version = SegmentVersion.objects.create(
            segment=segment,
            number=latest.number + 1,
            state=VersionState.DRAFT,
            author=user,
            content_hash=new_hash,
            provenance=provenance,
            **cleaned,
        )
        record_event(
            actor=user,
            action="segment.version_created",
            object_type="segment",
            object_id=segment.key,
            before=_snapshot(latest),
            after=_snapshot(version),
        )
        return version
