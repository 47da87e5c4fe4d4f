"""Size previews of a definition that is not saved (docs/rules.md, "Membership").

A preview counts what a first recompute would admit: (E \\ X) ∩ P.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from accounts.permissions import require
from core.errors import ErrorDetail, ValidationFailed
from core.time import as_utc
from customers.models import Customer

from .. import selectors
from ..models import (
    Segment,
    SegmentVersion,
)
from ..rules import customer_filter, validate_rule
from .membership import in_current_members_of, without_jit

SAMPLE_SIZE = 20

# --- previews -----------------------------------------------------------------


@dataclass
class Preview:
    """A size preview: matching count, a sample of rows, and missing-value shares per field."""

    count: int
    sample: list[dict[str, str]]
    missing: dict[str, float]
    as_of: datetime
    # The size by territory, specialty and decile (largest groups first), for the pages.
    breakdown: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sample": self.sample, "missing": self.missing}


def fresh_members_query(
    *, entry_rule: Any, exit_rule: Any, parent: Segment | None, as_of: datetime
) -> QuerySet[Customer]:
    """Customers a first recompute would admit: (E \\ X) ∩ P, since M is empty."""
    resolver = selectors.ReferenceResolver()
    qs = Customer.objects.filter(
        customer_filter(entry_rule, as_of=as_of, segment_version_id=resolver)
    )
    if exit_rule is not None:
        qs = qs.filter(
            customer_filter({"not": exit_rule}, as_of=as_of, segment_version_id=resolver)
        )
    if parent is not None:
        qs = qs.filter(in_current_members_of(parent.key, resolver))
    return qs


PREVIEW_TABLE = "segmentation_preview_match"


BREAKDOWN_COLUMNS = (
    ("territory", "territory_id"),
    ("specialty", "specialty"),
    ("decile", "decile"),
)
BREAKDOWN_TOP = 10


def _breakdown(cursor, table: str) -> dict[str, list[tuple[str, int]]]:
    """Matching customers grouped by territory, specialty and decile (from the temp table)."""
    customers = connection.ops.quote_name(Customer._meta.db_table)
    out = {}
    for name, column in BREAKDOWN_COLUMNS:
        col = connection.ops.quote_name(Customer._meta.get_field(column).column)
        order = "c." + col if name == "decile" else "n DESC, c." + col
        cursor.execute(
            f"SELECT c.{col}, COUNT(*) AS n FROM {table} m JOIN {customers} c ON c.id = m.id "
            f"GROUP BY c.{col} ORDER BY {order} LIMIT %s",
            [BREAKDOWN_TOP],
        )
        out[name] = [("—" if v in (None, "") else str(v), n) for v, n in cursor.fetchall()]
    return out


def _count_and_sample(
    qs: QuerySet[Customer], breakdown: dict | None = None
) -> tuple[int, list[dict[str, str]]]:
    """Count of ``qs`` and its first SAMPLE_SIZE customers by NPI, evaluating it once;
    ``breakdown``, when given, is filled with the size by territory, specialty and decile."""
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
        if breakdown is not None and count:
            breakdown.update(_breakdown(cursor, p))
        cursor.execute(f"DROP TABLE {p}")
    sample = list(
        Customer.objects.filter(pk__in=ids)
        .order_by("npi")
        .values("npi", "first_name", "last_name", "specialty", "state")
    )
    return count, sample


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
    customers whose value is missing (docs/rules.md's definition of missing);
    ``with_missing=False`` skips those counts when only the size is wanted.
    """
    require(user, "preview_segment")
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

    as_of = as_utc(as_of) or timezone.now()
    paths = selectors.rule_field_paths(entry_rule) if with_missing else []
    for path in selectors.rule_field_paths(exit_rule) if with_missing else []:
        if path not in paths:
            paths.append(path)
    with transaction.atomic():
        without_jit()
        qs = fresh_members_query(
            entry_rule=entry_rule, exit_rule=exit_rule, parent=parent_segment, as_of=as_of
        )
        # Evaluate the rule once, into a temporary table of (id, npi); the count
        # and the sample (first rows by NPI) are then cheap reads of it.
        breakdown: dict[str, list[tuple[str, int]]] = {}
        count, sample = _count_and_sample(qs, breakdown if with_missing else None)
        # All missing shares (and the total) in one pass over the customers.
        resolver = selectors.ReferenceResolver()
        counts = Customer.objects.order_by().aggregate(
            total=Count("*"),
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
    return Preview(count=count, sample=sample, missing=missing, as_of=as_of, breakdown=breakdown)


def preview_version(*, user, version: SegmentVersion, as_of: datetime | None = None) -> Preview:
    """Preview a stored version and remember the size and the content hash it was taken for.

    Submission for review needs a preview of exactly the content submitted
    (docs/governance.md), which ``previewed_hash`` makes checkable.
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
