"""Segment writes: drafts, previews, recomputes, and reactions to changed customer data.

Membership semantics follow rules.md exactly. With E the customers matching the
entry rule, X those matching the exit rule, M the members before the run and P
the parent's current members:

* no exit rule:   M' = E            (intersected with P when there is a parent)
* with exit rule: M' = (M ∪ E) \\ X  (intersected with P when there is a parent)

Everything is computed in the database: the engine's ``customer_filter`` gives a
``Q`` over Customer; M' and M are written once into two temporary tables, and
the differences M' \\ M and M \\ M' become history rows (``INSERT ... SELECT``)
and membership changes (one ``INSERT ... SELECT``, one ``DELETE``). No Python
loop over customers.

Choices made where the contract is silent:

* A recompute that changes no membership writes nothing at all, not even the
  version's ``last_recomputed_at``: "changes nothing and records nothing".
* A preview counts what a first recompute would admit: (E \\ X) ∩ P.
* Cycles are checked over every segment's latest *and* active version edges,
  since references resolve to the active version.
* An in-place edit of a draft keeps the draft's author; a new draft opened
  from an approved/active version is authored by the editor.
* ``preview`` is a reserved key (``/api/v1/segments/preview/``).
* History ``?since=`` filters on ``as_of``; signatures voided by a rejection
  are listed with ``"voided": true``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.permissions import require
from audit.services import record_event
from core.errors import Conflict, ErrorDetail, ValidationFailed
from customers.models import Customer

from . import selectors
from .models import (
    Direction,
    Membership,
    MembershipChange,
    Purpose,
    RecomputeRun,
    RecomputeTrigger,
    Segment,
    SegmentVersion,
    VersionState,
)

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
)
SAMPLE_SIZE = 20
# Customer ids per incremental task: keeps every statement well under SQLite's
# bound-parameter limit while a burst of 10,000 changes is still a few tasks.
INCREMENTAL_CHUNK = 2000


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
) -> str:
    """SHA-256 of the canonical JSON of a version's content (what signatures are bound to)."""
    body = json.dumps(
        {
            "name": name,
            "description": description,
            "purpose": purpose,
            "therapy_area": therapy_area,
            "indications": list(indications),
            "parent": parent,
            "entry_rule": entry_rule,
            "exit_rule": exit_rule,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def version_content(version: SegmentVersion) -> dict[str, Any]:
    """A version's content as plain data (the fields the content hash covers)."""
    return {
        "name": version.name,
        "description": version.description,
        "purpose": version.purpose,
        "therapy_area": version.therapy_area,
        "indications": list(version.indications or []),
        "parent": version.parent.key if version.parent_id else None,
        "entry_rule": version.entry_rule,
        "exit_rule": version.exit_rule,
    }


def _snapshot(version: SegmentVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "state": version.state,
        **version_content(version),
        "content_hash": version.content_hash,
    }


def _clean_definition(
    data: dict[str, Any], *, key: str, errors: list[ErrorDetail]
) -> dict[str, Any]:
    """Check types and vocabularies of a full definition; append errors, return cleaned values."""
    from .rules import validate_rule

    out: dict[str, Any] = {}

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
            else:
                out["parent"] = parent

    def segment_exists(ref: str) -> bool:
        # The segment being defined counts as existing so that a self-reference
        # is reported as the cycle it is rather than as an unknown segment.
        return ref == key or Segment.objects.filter(key=ref).exists()

    for rule_field in ("entry_rule", "exit_rule"):
        rule = data.get(rule_field)
        if rule is None:
            if rule_field == "entry_rule":
                errors.append(ErrorDetail("entry_rule", "required"))
            out[rule_field] = None
            continue
        try:
            validate_rule(rule, path=rule_field, segment_exists=segment_exists)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        else:
            out[rule_field] = rule
    return out


def _check_no_cycle(*, key: str, cleaned: dict[str, Any], errors: list[ErrorDetail]) -> None:
    """Refuse a definition whose references or parent close a cycle through ``key``."""
    from .rules import referenced_segments

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


def _validated(data: dict[str, Any], *, key: str) -> dict[str, Any]:
    errors: list[ErrorDetail] = []
    cleaned = _clean_definition(data, key=key, errors=errors)
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
) -> Segment:
    """Create a segment with draft version 1 authored by ``user``.

    Validates the key, the definition (rules through the engine's
    ``validate_rule``) and that no cycle of references and parents appears;
    every problem is reported at once with its field path.
    """
    require(user, "edit_segment")
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
    data = {
        "name": name,
        "description": description,
        "purpose": purpose,
        "therapy_area": therapy_area,
        "indications": list(indications) if isinstance(indications, (list, tuple)) else indications,
        "parent": parent,
        "entry_rule": entry_rule,
        "exit_rule": exit_rule,
    }
    try:
        cleaned = _validated(data, key=key)
    except ValidationFailed as exc:
        raise ValidationFailed(errors=key_errors + exc.errors) from None
    if key_errors:
        raise ValidationFailed(errors=key_errors)

    with transaction.atomic():
        segment = Segment.objects.create(key=key, created_by=user)
        version = SegmentVersion.objects.create(
            segment=segment,
            number=1,
            state=VersionState.DRAFT,
            author=user,
            content_hash=_hash_of(cleaned),
            **cleaned,
        )
        record_event(
            actor=user,
            action="segment.created",
            object_type="segment",
            object_id=key,
            after=_snapshot(version),
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
        data.update(changes)
        cleaned = _validated(data, key=segment.key)
        new_hash = _hash_of(cleaned)

        if latest.state == VersionState.DRAFT:
            before = _snapshot(latest)
            if new_hash == latest.content_hash:
                return latest  # nothing changed: nothing to record
            for name, value in cleaned.items():
                setattr(latest, name, value)
            latest.content_hash = new_hash
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


# --- previews -----------------------------------------------------------------


@dataclass
class Preview:
    """A size preview: matching count, a sample of rows, and missing-value shares per field."""

    count: int
    sample: list[dict[str, str]]
    missing: dict[str, float]
    as_of: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sample": self.sample, "missing": self.missing}


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)  # all times are UTC (rules.md)
    return moment.astimezone(UTC)


def _fresh_members_query(
    *, entry_rule: Any, exit_rule: Any, parent: Segment | None, as_of: datetime
) -> QuerySet[Customer]:
    """Customers a first recompute would admit: (E \\ X) ∩ P, since M is empty."""
    from .rules import customer_filter

    resolver = selectors.ReferenceResolver()
    qs = Customer.objects.filter(
        customer_filter(entry_rule, as_of=as_of, segment_version_id=resolver)
    )
    if exit_rule is not None:
        qs = qs.filter(
            customer_filter({"not": exit_rule}, as_of=as_of, segment_version_id=resolver)
        )
    if parent is not None:
        qs = qs.filter(_in_current_members_of(parent.key, resolver))
    return qs


PREVIEW_TABLE = "segmentation_preview_match"


def _count_and_sample(qs: QuerySet[Customer]) -> tuple[int, list[dict[str, str]]]:
    """Count of ``qs`` and its first SAMPLE_SIZE customers by NPI, evaluating it once."""
    ops = connection.ops
    p = ops.quote_name(PREVIEW_TABLE)
    try:
        sql, params = qs.order_by().values(cid=F("pk"), cnpi=F("npi")).query.sql_with_params()
    except EmptyResultSet:
        return 0, []
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {p}")
        cursor.execute(f"CREATE TEMPORARY TABLE {p} (id bigint PRIMARY KEY, npi varchar(10))")
        cursor.execute(
            f"INSERT INTO {p} (id, npi) SELECT src.cid, src.cnpi FROM ({sql}) src", params
        )
        cursor.execute(f"SELECT COUNT(*) FROM {p}")
        count = cursor.fetchone()[0]
        cursor.execute(f"SELECT m.id FROM {p} m ORDER BY m.npi LIMIT %s", [SAMPLE_SIZE])
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP TABLE {p}")
    sample = list(
        Customer.objects.filter(pk__in=ids)
        .order_by("npi")
        .values("npi", "first_name", "last_name", "specialty", "state")
    )
    return count, sample


def _without_jit() -> None:
    """Turn PostgreSQL's JIT off for the rest of the current transaction.

    The rules' subqueries make the planner's cost estimates large, so JIT
    compilation kicks in and costs about half a second per statement, more
    than an incremental recompute or a preview spends executing.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _in_current_members_of(key: str, resolver, scope_sql: RawSQL | None = None) -> Q:
    version_id = resolver(key)
    if version_id is None:
        return Q(pk__in=[])
    members = Membership.objects.filter(version_id=version_id, customer_id=OuterRef("pk"))
    if scope_sql is not None:
        members = members.filter(customer_id__in=scope_sql)
    return Q(Exists(members))


def preview_rule(
    *,
    user,
    entry_rule: Any,
    exit_rule: Any = None,
    as_of: datetime | None = None,
    parent: str | None = None,
    with_missing: bool = True,
) -> Preview:
    """Size of a definition without saving anything.

    ``count`` is the size a first recompute at ``as_of`` would give: with no
    members yet, M' = (E \\ X), intersected with the parent's current members
    when a parent is given. ``sample`` holds up to 20 of those customers by NPI;
    ``missing`` gives, for every field the rules use, the share (0..1) of all
    customers whose value is missing (rules.md's definition of missing);
    ``with_missing=False`` skips those counts when only the size is wanted.
    """
    require(user, "preview_segment")
    from .rules import customer_filter, validate_rule

    errors: list[ErrorDetail] = []
    for rule_field, rule in (("entry_rule", entry_rule), ("exit_rule", exit_rule)):
        if rule is None:
            if rule_field == "entry_rule":
                errors.append(ErrorDetail("entry_rule", "required"))
            continue
        try:
            validate_rule(
                rule,
                path=rule_field,
                segment_exists=lambda k: Segment.objects.filter(key=k).exists(),
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    parent_segment = None
    if parent is not None:
        parent_segment = Segment.objects.filter(key=parent).first()
        if parent_segment is None:
            errors.append(ErrorDetail("parent", f"unknown segment '{parent}'"))
    if errors:
        raise ValidationFailed(errors=errors)

    as_of = _as_utc(as_of) or timezone.now()
    paths = selectors.rule_field_paths(entry_rule) if with_missing else []
    for path in selectors.rule_field_paths(exit_rule) if with_missing else []:
        if path not in paths:
            paths.append(path)
    with transaction.atomic():
        _without_jit()
        qs = _fresh_members_query(
            entry_rule=entry_rule, exit_rule=exit_rule, parent=parent_segment, as_of=as_of
        )
        # Evaluate the rule once, into a temporary table of (id, npi); the count
        # and the sample (first rows by NPI) are then cheap reads of it.
        count, sample = _count_and_sample(qs)
        # All missing shares (and the total) in one pass over the customers.
        resolver = selectors.ReferenceResolver()
        counts = Customer.objects.order_by().aggregate(
            total=Count("pk"),
            **{
                f"missing_{i}": Count(
                    "pk",
                    filter=customer_filter(
                        {"field": path, "op": "is_not_set"},
                        as_of=as_of,
                        segment_version_id=resolver,
                    ),
                )
                for i, path in enumerate(paths)
            },
        )
    total = counts["total"]
    missing = {
        path: round(counts[f"missing_{i}"] / total, 4) if total else 0.0
        for i, path in enumerate(paths)
    }
    return Preview(count=count, sample=sample, missing=missing, as_of=as_of)


def preview_version(*, user, version: SegmentVersion, as_of: datetime | None = None) -> Preview:
    """Preview a stored version and remember the size and the content hash it was taken for.

    Submission for review needs a preview of exactly the content submitted
    (governance.md), which ``previewed_hash`` makes checkable.
    """
    preview = preview_rule(
        user=user,
        entry_rule=version.entry_rule,
        exit_rule=version.exit_rule,
        as_of=as_of,
        parent=version.parent.key if version.parent_id else None,
    )
    with transaction.atomic():
        SegmentVersion.objects.filter(pk=version.pk).update(
            preview_count=preview.count,
            previewed_at=timezone.now(),
            previewed_hash=version.content_hash,
        )
    version.refresh_from_db(fields=["preview_count", "previewed_at", "previewed_hash"])
    return preview


# --- recompute ------------------------------------------------------------------


@dataclass
class RecomputeResult:
    """What one recompute of one version did. ``run_id`` is None when nothing changed."""

    segment: str
    version: int
    version_id: int
    as_of: datetime
    entered: int
    exited: int
    member_count: int
    duration_ms: int
    trigger: str
    run_id: int | None = None
    scope_size: int | None = None
    changed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.changed = bool(self.entered or self.exited)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return data


def _target_query(
    *, version: SegmentVersion, as_of: datetime, scope: list[int] | None, scope_sql: RawSQL | None
) -> QuerySet[Customer]:
    """M' as a Customer query (restricted to ``scope`` when given); reads M before any write.

    ``scope_sql`` selects the same ids from a temporary table. It is pushed
    into every per-customer subquery (event counts and rx sums through
    ``customer_filter``, current members, the parent's members) so that none
    of them reads rows of customers outside the scope; the outer query takes
    the literal ids, so the planner knows it starts from a few customers.
    """
    from .rules import customer_filter

    resolver = selectors.ReferenceResolver()
    condition = customer_filter(
        version.entry_rule, as_of=as_of, segment_version_id=resolver, customer_ids=scope_sql
    )
    if version.exit_rule is not None:
        current = Membership.objects.filter(version_id=version.pk, customer_id=OuterRef("pk"))
        if scope_sql is not None:
            current = current.filter(customer_id__in=scope_sql)
        not_exit = customer_filter(
            {"not": version.exit_rule},
            as_of=as_of,
            segment_version_id=resolver,
            customer_ids=scope_sql,
        )
        condition = (condition | Q(Exists(current))) & not_exit
    # order_by(): no ORDER BY (Customer's default npi ordering) inside INSERT ... SELECT.
    qs = Customer.objects.filter(condition).order_by()
    if version.parent_id is not None:
        qs = qs.filter(_in_current_members_of(version.parent.key, resolver, scope_sql))
    if scope is not None:
        qs = qs.filter(pk__in=scope)
    return qs


TARGET_TABLE = "segmentation_recompute_target"
CURRENT_TABLE = "segmentation_recompute_current"
SCOPE_TABLE = "segmentation_recompute_scope"


def _write_scope(scope: list[int]) -> RawSQL:
    """Write the scope's ids into a temporary table; return a subquery selecting them.

    Every place that needs the scope (the target query, each grouped
    subquery of the rule, the current members) reads this one table, so the
    statements carry no id parameters at all (SQLite's parameter limit) and
    PostgreSQL plans them from the table's statistics.
    """
    ops = connection.ops
    s = ops.quote_name(SCOPE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {s}")
        cursor.execute(f"CREATE TEMPORARY TABLE {s} (id bigint PRIMARY KEY)")
        for start in range(0, len(scope), 500):
            chunk = scope[start : start + 500]
            cursor.execute(f"INSERT INTO {s} (id) VALUES {', '.join(['(%s)'] * len(chunk))}", chunk)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {s}")
    return RawSQL(f"SELECT id FROM {s}", ())


def _materialise(
    *, target: QuerySet[Customer], version: SegmentVersion, scope: RawSQL | None
) -> None:
    """Write M' and M (restricted to the scope) into per-connection temporary tables.

    Both sides of every difference are then small, freshly analysed tables, so
    the planner picks hash anti-joins even when the statistics of the large
    membership and history tables lag behind a bulk load.
    """
    sql, params = target.values(cid=F("pk")).query.sql_with_params()
    ops = connection.ops
    t, c = ops.quote_name(TARGET_TABLE), ops.quote_name(CURRENT_TABLE)
    membership = ops.quote_name(Membership._meta.db_table)
    in_scope = ""
    if scope is not None:
        in_scope = f" AND customer_id IN (SELECT id FROM {ops.quote_name(SCOPE_TABLE)})"
    with connection.cursor() as cursor:
        for table in (t, c):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {table} (id bigint PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {t} (id) SELECT src.cid FROM ({sql}) src", params)
        cursor.execute(
            f"INSERT INTO {c} (id) SELECT customer_id FROM {membership} "
            f"WHERE version_id = %s{in_scope}",
            [version.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t}")  # temp tables are never auto-analysed
            cursor.execute(f"ANALYZE {c}")


def _drop_temporaries() -> None:
    with connection.cursor() as cursor:
        for table in (TARGET_TABLE, CURRENT_TABLE, SCOPE_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)}")


def _difference_queries() -> tuple[tuple[str, list], tuple[str, list]]:
    """SQL for M' \\ M (entered) and M \\ M' (exited), each selecting ``cid``."""
    t = connection.ops.quote_name(TARGET_TABLE)
    c = connection.ops.quote_name(CURRENT_TABLE)
    entered = (
        f"SELECT a.id AS cid FROM {t} a WHERE NOT EXISTS (SELECT 1 FROM {c} b WHERE b.id = a.id)",
        [],
    )
    exited = (
        f"SELECT a.id AS cid FROM {c} a WHERE NOT EXISTS (SELECT 1 FROM {t} b WHERE b.id = a.id)",
        [],
    )
    return entered, exited


def _insert_changes(
    *,
    source: tuple[str, list],
    run: RecomputeRun,
    version: SegmentVersion,
    direction: str,
    as_of: datetime,
    recorded_at: datetime,
) -> int:
    """INSERT ... SELECT one history row per customer id the ``source`` SQL yields (as cid)."""
    sql, params = source
    table = MembershipChange._meta.db_table
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ops.quote_name(table)} "
            "(version_id, customer_id, direction, as_of, recorded_at, run_id) "
            f"SELECT %s, src.cid, %s, %s, %s, %s FROM ({sql}) src",
            [
                version.pk,
                direction,
                ops.adapt_datetimefield_value(as_of),
                ops.adapt_datetimefield_value(recorded_at),
                run.pk,
                *params,
            ],
        )
        return cursor.rowcount


def _apply_changes(*, version: SegmentVersion, as_of: datetime) -> None:
    """Apply the differences to the membership table: one INSERT ... SELECT, one DELETE."""
    ops = connection.ops
    membership = ops.quote_name(Membership._meta.db_table)
    (entered_sql, _), (exited_sql, _) = _difference_queries()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {membership} (version_id, customer_id, entered_at) "
            f"SELECT %s, src.cid, %s FROM ({entered_sql}) src",
            [version.pk, ops.adapt_datetimefield_value(as_of)],
        )
        cursor.execute(
            f"DELETE FROM {membership} WHERE version_id = %s AND customer_id IN "
            f"(SELECT src.cid FROM ({exited_sql}) src)",
            [version.pk],
        )


def recompute_version(
    *,
    version: SegmentVersion,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.MANUAL,
    user=None,
    customer_ids: Iterable[int] | None = None,
) -> RecomputeResult:
    """Recompute one version's membership at ``as_of`` (default now, UTC), in one transaction.

    Only the differences are written: history rows (entry/exit) for every
    customer who entered or left, then the membership rows. When nothing
    changes, nothing is written at all: no run, no history, no audit event.
    ``customer_ids`` restricts the evaluation to those customers (incremental
    run after a data change); members outside it are left as they are.
    Concurrent recomputes of one version are serialised by locking its row.
    ``user`` is None for workers; when given, the user must be allowed to recompute.
    """
    if user is not None:
        require(user, "recompute_segment")
    as_of = _as_utc(as_of) or timezone.now()
    scope = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    started_at = timezone.now()
    t0 = time.perf_counter()
    with transaction.atomic():
        version = (
            SegmentVersion.objects.select_for_update(of=("self",))
            .select_related("segment", "parent")
            .get(pk=version.pk)
        )
        if scope is not None and not scope:
            return _unchanged(version, as_of, trigger, t0, scope)
        scope_sql = None
        if scope is not None:
            _without_jit()
            scope_sql = _write_scope(scope)
        # Evaluate M' once into a temp table; both differences are then cheap
        # anti-joins against it and the membership table.
        _materialise(
            target=_target_query(version=version, as_of=as_of, scope=scope, scope_sql=scope_sql),
            version=version,
            scope=scope_sql,
        )
        entered, exited = _difference_queries()

        savepoint = transaction.savepoint()
        run = RecomputeRun.objects.create(
            version=version,
            as_of=as_of,
            trigger=trigger,
            started_at=started_at,
            user=user if getattr(user, "pk", None) else None,
            scope_size=len(scope) if scope is not None else None,
        )
        recorded_at = timezone.now()
        n_in = _insert_changes(
            source=entered,
            run=run,
            version=version,
            direction=Direction.ENTRY,
            as_of=as_of,
            recorded_at=recorded_at,
        )
        n_out = _insert_changes(
            source=exited,
            run=run,
            version=version,
            direction=Direction.EXIT,
            as_of=as_of,
            recorded_at=recorded_at,
        )
        if n_in == 0 and n_out == 0:
            # Unchanged data and as_of change nothing and record nothing (rules.md).
            transaction.savepoint_rollback(savepoint)
            _drop_temporaries()
            return _unchanged(version, as_of, trigger, t0, scope)
        transaction.savepoint_commit(savepoint)

        _apply_changes(version=version, as_of=as_of)
        _drop_temporaries()
        member_count = Membership.objects.filter(version_id=version.pk).count()
        duration_ms = int((time.perf_counter() - t0) * 1000)
        RecomputeRun.objects.filter(pk=run.pk).update(
            entered=n_in, exited=n_out, member_count=member_count, duration_ms=duration_ms
        )
        SegmentVersion.objects.filter(pk=version.pk).update(
            member_count=member_count, last_recomputed_at=recorded_at, last_as_of=as_of
        )
        result = RecomputeResult(
            segment=version.segment.key,
            version=version.number,
            version_id=version.pk,
            as_of=as_of,
            entered=n_in,
            exited=n_out,
            member_count=member_count,
            duration_ms=duration_ms,
            trigger=str(trigger),
            run_id=run.pk,
            scope_size=run.scope_size,
        )
        record_event(
            actor=user if getattr(user, "pk", None) else None,
            action="segment.recomputed",
            object_type="segment",
            object_id=version.segment.key,
            after={
                "segment": version.segment.key,
                "version": version.number,
                "as_of": result.as_dict()["as_of"],
                "entered": n_in,
                "exited": n_out,
                "member_count": member_count,
                "duration_ms": duration_ms,
                "trigger": str(trigger),
                "scope_size": run.scope_size,
                "run": run.pk,
            },
        )
    return result


def _unchanged(
    version: SegmentVersion, as_of: datetime, trigger: str, t0: float, scope: list[int] | None
) -> RecomputeResult:
    return RecomputeResult(
        segment=version.segment.key,
        version=version.number,
        version_id=version.pk,
        as_of=as_of,
        entered=0,
        exited=0,
        member_count=version.member_count,
        duration_ms=int((time.perf_counter() - t0) * 1000),
        trigger=str(trigger),
        run_id=None,
        scope_size=len(scope) if scope is not None else None,
    )


def _recompute_in_order(
    versions: Iterable[SegmentVersion],
    *,
    as_of: datetime | None,
    trigger: str,
    user=None,
    customer_ids: Iterable[int] | None = None,
) -> list[RecomputeResult]:
    """Recompute versions level by level so references see this run's membership."""
    as_of = _as_utc(as_of) or timezone.now()
    ids = None if customer_ids is None else sorted({int(i) for i in customer_ids})
    results: list[RecomputeResult] = []
    for level in selectors.dependency_levels(list(versions)):
        for version in level:
            results.append(
                recompute_version(
                    version=version, as_of=as_of, trigger=trigger, user=user, customer_ids=ids
                )
            )
    return results


def recompute_all(
    *,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.SCHEDULE,
    customer_ids: Iterable[int] | None = None,
) -> list[RecomputeResult]:
    """Recompute every active version in dependency order (one transaction per version).

    With ``customer_ids``, each version is evaluated for those customers only.
    """
    return _recompute_in_order(
        selectors.active_versions(), as_of=as_of, trigger=trigger, customer_ids=customer_ids
    )


def recompute_with_dependents(
    *,
    version: SegmentVersion,
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.ACTIVATION,
    user=None,
) -> list[RecomputeResult]:
    """Recompute a version, then every active version that depends on its segment.

    For activation: once a new version is active, references and children read
    its membership, so their own membership is brought up to date in the same
    dependency order (each in its own transaction).
    """
    as_of = _as_utc(as_of) or timezone.now()
    results = [recompute_version(version=version, as_of=as_of, trigger=trigger, user=user)]
    key = version.segment.key
    actives = [v for v in selectors.active_versions() if v.pk != version.pk]
    edges = {v.segment.key: selectors.version_edges(v) for v in actives}
    affected: set[str] = set()
    frontier = {key}
    while frontier:
        frontier = {k for k, deps in edges.items() if deps & frontier} - affected - {key}
        affected |= frontier
    dependents = [v for v in actives if v.segment.key in affected]
    results += _recompute_in_order(dependents, as_of=as_of, trigger=trigger)
    return results


def recompute_segment_keys(
    *,
    keys: Iterable[str],
    as_of: datetime | None = None,
    trigger: str = RecomputeTrigger.MANUAL,
    user=None,
) -> list[RecomputeResult]:
    """Recompute the named segments (active version, else latest) in dependency order."""
    versions = []
    for key in keys:
        segment = selectors.segment_get(key=key)
        version = selectors.current_version(segment)
        if version is not None:
            versions.append(
                SegmentVersion.objects.select_related("segment", "parent").get(pk=version.pk)
            )
    return _recompute_in_order(versions, as_of=as_of, trigger=trigger, user=user)


def recompute_everything(
    *, as_of: datetime | None = None, trigger: str = RecomputeTrigger.MANUAL
) -> list[RecomputeResult]:
    """Active versions plus the latest version of segments without one (the command's run)."""
    return _recompute_in_order(
        selectors.versions_for_full_recompute(), as_of=as_of, trigger=trigger
    )


def recompute_for_customers(*, customer_ids: Iterable[int]) -> list[RecomputeResult]:
    """Incremental recompute after a data change: every active version, for these customers.

    Runs in dependency order, so a segment referencing another (or with a
    parent) sees the referenced segment's membership already updated for the
    same customers. With an exit rule, M ∪ E is taken over the touched
    customers only; members outside the scope are untouched.
    """
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return []
    return recompute_all(trigger=RecomputeTrigger.DATA_CHANGE, customer_ids=ids)


def notify_customers_changed(*, customer_ids: Iterable[int]) -> None:
    """Schedule an incremental recompute of active segments for these customers.

    Called by imports and the interactions API inside their transaction; the
    work is queued with ``transaction.on_commit`` so a rolled-back import
    triggers nothing, and a burst becomes a few tasks of up to
    ``INCREMENTAL_CHUNK`` ids each, not one task per row.
    """
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return

    def enqueue() -> None:
        from .tasks import recompute_customers_task

        for start in range(0, len(ids), INCREMENTAL_CHUNK):
            recompute_customers_task.delay(ids[start : start + INCREMENTAL_CHUNK])

    transaction.on_commit(enqueue)
