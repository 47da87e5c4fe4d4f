"""Segment reads: lookups, the reference graph, dependency order, members and history.

Everything that crosses relations or decides *which* version a reference means
lives here, so services, API views, tasks and the management command agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from core.errors import NotFound

from .models import (
    AccountMembershipSpell,
    Membership,
    MembershipChange,
    Segment,
    SegmentVersion,
    VersionState,
)
from .rules import get_field, referenced_segments


def segment_get(*, key: str) -> Segment:
    """The segment with this key, or NotFound (404)."""
    segment = Segment.objects.filter(key=key).first()
    if segment is None:
        raise NotFound(f"no segment with key '{key}'", path="key")
    return segment


def segment_list() -> QuerySet[Segment]:
    """All segments with their versions, signatures and authors prefetched (for the API list)."""
    return Segment.objects.order_by("key").prefetch_related(
        "versions__author", "versions__parent", "versions__signatures"
    )


def latest_version(segment: Segment) -> SegmentVersion | None:
    """The highest-numbered version of a segment."""
    return segment.versions.order_by("-number").first()


def active_version(segment: Segment) -> SegmentVersion | None:
    """The segment's active version, if it has one."""
    return segment.versions.filter(state=VersionState.ACTIVE).first()


def current_version(segment: Segment) -> SegmentVersion | None:
    """What a reference or a parent means (docs/rules.md): the active version, else the latest."""
    return active_version(segment) or latest_version(segment)


def version_get(*, segment: Segment, number: int) -> SegmentVersion:
    """Version ``number`` of a segment, or NotFound (404)."""
    version = segment.versions.filter(number=number).first()
    if version is None:
        raise NotFound(f"segment '{segment.key}' has no version {number}", path="version")
    return version


def version_for_recompute(segment: Segment) -> SegmentVersion | None:
    """The version a recompute means by default: active, else the latest draft, else the latest."""
    return (
        active_version(segment)
        or segment.versions.filter(state=VersionState.DRAFT).order_by("-number").first()
        or latest_version(segment)
    )


def current_version_ids(keys: Iterable[str]) -> dict[str, int]:
    """Map segment keys to their current version id (active, else latest) in one query."""
    keys = set(keys)
    if not keys:
        return {}
    rows = (
        SegmentVersion.objects.filter(segment__key__in=keys)
        .annotate(
            is_active=Case(
                When(state=VersionState.ACTIVE, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("segment__key", "-is_active", "-number")
        .values_list("segment__key", "pk")
    )
    out: dict[str, int] = {}
    for key, pk in rows:
        out.setdefault(key, pk)
    return out


class ReferenceResolver:
    """Callable ``key -> version id | None`` for ``customer_filter``; caches lookups.

    A segment reference or parent reads the membership of the referenced
    segment's active version, else its latest version (docs/rules.md).
    """

    def __init__(self) -> None:
        self._cache: dict[str, int | None] = {}

    def __call__(self, key: str) -> int | None:
        if key not in self._cache:
            self._cache[key] = current_version_ids([key]).get(key)
        return self._cache[key]


# --- the reference graph -------------------------------------------------


def rule_references(rule: Any) -> set[str]:
    """Segment keys a rule references (empty for None or a malformed rule)."""

    if rule is None:
        return set()
    try:
        return set(referenced_segments(rule))
    except Exception:  # a malformed stored rule must not break graph reads
        return set()


def version_edges(version: SegmentVersion) -> set[str]:
    """Keys this version depends on: its references (entry and exit) and its parent."""
    edges = rule_references(version.entry_rule) | rule_references(version.exit_rule)
    if version.parent_id is not None:
        edges.add(version.parent.key)
    return edges


def segment_graph() -> dict[str, set[str]]:
    """Edges of every segment: the union of its latest and its active version's edges.

    The union is stricter than the latest version alone: references resolve to
    the active version, so an edge held only by the active version still counts.
    """
    graph: dict[str, set[str]] = {}
    latest_numbers: dict[int, int] = {}
    versions = list(SegmentVersion.objects.select_related("segment", "parent").order_by("number"))
    for v in versions:
        latest_numbers[v.segment_id] = v.number
    for v in versions:
        if v.number == latest_numbers[v.segment_id] or v.state == VersionState.ACTIVE:
            graph.setdefault(v.segment.key, set()).update(version_edges(v))
    return graph


def find_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start if ``start`` lies on a cycle, else None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def dependency_levels(versions: Iterable[SegmentVersion]) -> list[list[SegmentVersion]]:
    """Group versions into levels so each depends only on versions in earlier levels.

    Edges to segments outside the given set are ignored (their membership is
    not being recomputed). Versions left on a cycle, which validation should
    prevent, go into one last level rather than being dropped.
    """
    by_key = {v.segment.key: v for v in versions}
    deps = {key: version_edges(v) & by_key.keys() - {key} for key, v in by_key.items()}
    levels: list[list[SegmentVersion]] = []
    done: set[str] = set()
    remaining = set(by_key)
    while remaining:
        ready = sorted(k for k in remaining if deps[k] <= done)
        if not ready:
            ready = sorted(remaining)
        levels.append([by_key[k] for k in ready])
        done.update(ready)
        remaining.difference_update(ready)
    return levels


def active_versions() -> list[SegmentVersion]:
    """Every active version, with segment and parent loaded."""
    return list(
        SegmentVersion.objects.filter(state=VersionState.ACTIVE)
        .select_related("segment", "parent")
        .order_by("segment__key")
    )


def versions_for_full_recompute() -> list[SegmentVersion]:
    """Active versions, plus the latest version of each segment that has no active one."""
    chosen = {v.segment_id: v for v in active_versions()}
    for v in SegmentVersion.objects.select_related("segment", "parent").order_by("number"):
        if v.segment_id not in chosen or chosen[v.segment_id].state != VersionState.ACTIVE:
            chosen[v.segment_id] = v  # ends on the highest number
    return sorted(chosen.values(), key=lambda v: v.segment.key)


def _walk_conditions(rule: Any) -> Iterator[dict]:
    """Yield every condition node of a rule (a tolerant walk: ignores malformed parts)."""
    if isinstance(rule, dict):
        if "all" in rule or "any" in rule:
            children = rule.get("all", rule.get("any"))
            if isinstance(children, list):
                for child in children:
                    yield from _walk_conditions(child)
        elif "not" in rule:
            yield from _walk_conditions(rule["not"])
        else:
            yield rule
            if "members" in rule:  # an account rule's nested customer rule
                yield from _walk_conditions(rule["members"])


def rule_field_paths(rule: Any) -> list[str]:
    """Field paths used by a rule's field conditions, in first-use order."""
    out: list[str] = []
    for cond in _walk_conditions(rule):
        path = cond.get("field")
        if isinstance(path, str) and path not in out:
            out.append(path)
    return out


def rule_is_time_windowed(rule: Any) -> bool:
    """True when the rule's result moves with ``as_of`` alone (within_days or months)."""
    return any(
        ("event" in c and "within_days" in c) or ("rx" in c and "months" in c)
        for c in _walk_conditions(rule)
    )


def time_windowed_active_versions() -> list[SegmentVersion]:
    """Active versions whose rules use a time window, or depend on such a segment.

    Dependence is transitive through references and parents among active
    versions: when a windowed segment's membership moves, so may its dependents.
    """
    versions = active_versions()
    by_key = {v.segment.key: v for v in versions}
    windowed = {
        k
        for k, v in by_key.items()
        if rule_is_time_windowed(v.entry_rule) or rule_is_time_windowed(v.exit_rule)
    }
    return _with_dependents(by_key, windowed)


def _with_dependents(by_key: dict[str, SegmentVersion], seed: set[str]) -> list[SegmentVersion]:
    """The versions in ``seed`` and, transitively, every version referencing one or under one."""
    chosen = set(seed)
    edges = {k: version_edges(v) for k, v in by_key.items()}
    changed = True
    while changed:
        changed = False
        for k in by_key.keys() - chosen:
            if edges[k] & chosen:
                chosen.add(k)
                changed = True
    return [by_key[k] for k in sorted(chosen)]


# What each kind of customer data feeds in a rule: the suffix of
# ``customers_changed``'s ``source`` ("import:interactions", "api:interactions")
# names the data that changed. A customers import is absent on purpose: it may
# create customers, and a new customer can match any rule (a "never" event
# count, a negated field), so it affects every segment.
CONDITIONS_FED_BY = {
    "interactions": frozenset({"event"}),
    "rx": frozenset({"rx"}),
    "accounts": frozenset({"account"}),
    "coverage": frozenset({"coverage"}),
    "referrals": frozenset({"influence"}),
}


def rule_condition_kinds(rule: Any, unit: str = "customer") -> set[str]:
    """Kinds of data a rule reads: event, rx, customer, account, attr, influence,
    coverage (references not included).

    An account segment's own and ``parent.`` fields read accounts; its
    ``members`` read the customers' affiliations and, through the hierarchy,
    the accounts; its event and rx rollups read the affiliations too.
    """
    kinds: set[str] = set()
    if unit == "account":
        kinds.add("account")  # the parent chain and the members' affiliations
    nested = _nested_conditions(rule) if unit == "account" else set()
    for cond in _walk_conditions(rule):
        if "event" in cond:
            kinds.add("event")
        elif "rx" in cond:
            kinds.add("rx")
        elif "coverage" in cond:
            kinds.add("coverage")
        elif "members" in cond:
            kinds.add("customer")
        elif "field" in cond:
            if unit == "account" and id(cond) not in nested:
                kinds.add("account")
                continue
            spec = get_field(cond["field"]) if isinstance(cond["field"], str) else None
            kinds.add(spec.scope if spec is not None else "customer")
    return kinds


def _nested_conditions(rule: Any) -> set[int]:
    """ids of the condition nodes inside an account rule's ``members`` rules."""
    found: set[int] = set()
    for cond in _walk_conditions(rule):
        if "members" in cond:
            found.update(id(c) for c in _walk_conditions(cond["members"]))
    return found


def active_versions_affected_by(source: str | None) -> list[SegmentVersion]:
    """Active versions whose membership can change when the data named by ``source`` changes.

    A version is affected when its own rules read that kind of data, or when a
    segment it references (or its parent) is affected (docs/architecture.md,
    "How a customer change becomes a membership change"). An unknown or
    missing source affects every active version.
    """
    versions = active_versions()
    fed = CONDITIONS_FED_BY.get((source or "").rpartition(":")[2])
    if fed is None:
        return versions
    by_key = {v.segment.key: v for v in versions}
    direct = {
        k
        for k, v in by_key.items()
        if (
            rule_condition_kinds(v.entry_rule, v.segment.unit)
            | rule_condition_kinds(v.exit_rule, v.segment.unit)
        )
        & fed
    }
    return _with_dependents(by_key, direct)


# --- members and history -------------------------------------------------


def members_of(*, version: SegmentVersion, territory: str | None = None) -> QuerySet[Membership]:
    """Current members of a version ordered by NPI, optionally in one territory."""
    qs = Membership.objects.filter(version=version).select_related("customer")
    if territory:
        qs = qs.filter(customer__territory_id=territory)
    return qs.order_by("customer__npi")


def history_of(
    *,
    segment: Segment,
    version: SegmentVersion | None = None,
    npi: str | None = None,
    since: datetime | None = None,
) -> QuerySet[MembershipChange]:
    """Entries and exits of a segment's versions, oldest first; ``since`` filters on as_of."""
    qs = MembershipChange.objects.filter(version__segment=segment).select_related(
        "customer", "version"
    )
    if version is not None:
        qs = qs.filter(version=version)
    if npi:
        qs = qs.filter(customer__npi=npi)
    if since is not None:
        qs = qs.filter(as_of__gte=since)
    return qs.order_by("recorded_at", "id")


def account_members_of(
    *, version: SegmentVersion, territory: str | None = None
) -> QuerySet[AccountMembershipSpell]:
    """Current members of an account segment's version by account id, optionally in a territory."""
    qs = AccountMembershipSpell.objects.filter(
        version=version, exited_as_of__isnull=True
    ).select_related("account")
    if territory:
        qs = qs.filter(account__territory_id=territory)
    return qs.order_by("account_id")


def account_history_of(
    *,
    segment: Segment,
    version: SegmentVersion | None = None,
    account_id: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Entries and exits of an account segment's versions, oldest first (from the spells)."""
    spells = AccountMembershipSpell.objects.filter(version__segment=segment)
    if version is not None:
        spells = spells.filter(version=version)
    if account_id:
        spells = spells.filter(account_id=account_id)
    rows: list[dict[str, Any]] = []
    fields = ("id", "account_id", "version__number")
    for direction, prefix in (("entry", "entered"), ("exit", "exited")):
        qs = spells.filter(**{f"{prefix}_run__isnull": False})
        if since is not None:
            qs = qs.filter(**{f"{prefix}_as_of__gte": since})
        for row in qs.values(*fields, f"{prefix}_as_of", f"{prefix}_recorded_at"):
            rows.append(
                {
                    "n": 2 * row["id"] + (direction == "exit"),
                    "account_id": row["account_id"],
                    "direction": direction,
                    "as_of": row[f"{prefix}_as_of"],
                    "recorded_at": row[f"{prefix}_recorded_at"],
                    "version": row["version__number"],
                }
            )
    rows.sort(key=lambda r: (r["recorded_at"], r["n"]))
    return rows
