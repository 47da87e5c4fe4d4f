"""Size previews of a definition that is not saved (docs/rules.md, "Membership").

A preview counts what a first recompute would admit: (E \\ X) ∩ P.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.permissions import require
from core.errors import ErrorDetail, ValidationFailed
from core.replica import read_alias
from core.time import as_utc
from customers.models import Account, Customer, CustomerAttribute, Influence

from .. import selectors
from ..models import Rollup, Segment, SegmentVersion, Unit
from ..rules import (
    account_filter,
    customer_filter,
    get_account_field,
    get_field,
    validate_rule,
    value_present,
)
from ..rules.compile import latest_referral_network
from ..units import ACCOUNT
from .membership import current_members_of, ids_sql, in_current_members_of, without_jit

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
    """Customers a first recompute would admit: (E \\ X) ∩ P, since M is empty.

    With a parent, the rules' event counts and rx sums aggregate only the
    parent's members (``customer_filter``'s ``within``): nobody else can be
    admitted, so nobody else's rows need reading (bench/README.md, "Previews").
    """
    resolver = selectors.ReferenceResolver()
    within = None
    if parent is not None:
        within = current_members_of(parent.key, resolver)
        if within is None:
            return Customer.objects.none()

    def matching(rule: Any) -> Q:
        return customer_filter(rule, as_of=as_of, segment_version_id=resolver, within=within)

    rule = entry_rule
    if exit_rule is not None:
        # One "all": the entry's conditions on the customer's own columns then
        # narrow the exit's counts and sums too (rules/compile.py's ``_all``).
        parts = entry_rule["all"] if set(entry_rule) == {"all"} else [entry_rule]
        rule = {"all": [*parts, {"not": exit_rule}]}
    # As the recompute: inactive customers are never members (membership.target_query).
    qs = Customer.objects.filter(matching(rule), active=True)
    if parent is not None:
        qs = qs.filter(in_current_members_of(parent.key, resolver))
    return qs


# The size by these columns of the matches, for the pages: (name, Customer field, order).
BREAKDOWN_COLUMNS = (
    ("territory", "territory_id", "largest"),
    ("specialty", "specialty", "largest"),
    ("decile", "decile", "value"),
)
BREAKDOWN_TOP = 10


def _limit(order: str) -> str:
    """Largest groups: the top ones. By value (deciles 1-10 and blank): every one, so the
    breakdown is complete."""
    return "" if order == "value" else f" LIMIT {BREAKDOWN_TOP}"


def summary_statement(qs: QuerySet[Customer], *, breakdown: bool) -> tuple[str, list]:
    """One statement over the matches: their count, the sample's NPIs and the breakdowns.

    Rows are (part, value, n). Raises EmptyResultSet when ``qs`` is empty by
    construction. On PostgreSQL, when every condition can be tested for one
    customer at a time (no count or sum grouped per customer), see
    ``_grouped_summary``: the sample arm then walks the customers in NPI order,
    testing each, and stops at the 20th match. Otherwise, and when few matches
    are expected of a plan with hashed subqueries (FEW_MATCHES), the rule is
    evaluated once, in a common table expression that every arm reads
    (PostgreSQL and SQLite materialise a CTE referenced more than once), so
    nothing is written to a table, nothing joins back to the customers and no
    grouped or hashed subquery runs twice (bench/README.md, "Previews").
    """
    columns = [column for _, column, _ in BREAKDOWN_COLUMNS]
    match_sql, params = qs.order_by().values("npi", *columns).query.sql_with_params()
    if (
        connection.vendor == "postgresql"
        and not _grouped_per_customer(match_sql)
        and not _few_matches_of_hashed_subqueries(qs.db, match_sql, params)
    ):
        grouped, grouped_params = _grouped_summary(match_sql, list(params), breakdown=breakdown)
        return f"{grouped} UNION ALL {_sample_arm(f'({match_sql})')}", [*grouped_params, *params]
    arms = ["SELECT 'count' AS part, NULL AS v, COUNT(*) AS n FROM m", _sample_arm("m")]
    for i, (name, column, order) in enumerate(BREAKDOWN_COLUMNS if breakdown else ()):
        by = f"m.{column}" if order == "value" else f"COUNT(*) DESC, m.{column}"
        arms.append(
            f"SELECT * FROM (SELECT '{name}' AS part, CAST(m.{column} AS TEXT) AS v, "
            f"COUNT(*) AS n FROM m GROUP BY m.{column} ORDER BY {by}{_limit(order)}) b{i}"
        )
    return f"WITH m AS ({match_sql}) " + " UNION ALL ".join(arms), list(params)


# A rule whose plan builds hashed subqueries (an "or" of event conditions, say) and that
# the planner expects to match at most this many customers is evaluated once, into the
# common table expression that the count, the breakdowns and the sample all read: a
# separate sample arm would build those subqueries a second time (the bench's
# rules-example at 1M customers: 0.85 s to 0.41 s). Past it, or without such
# subqueries, grouping the matches in parallel costs less than writing them all.
FEW_MATCHES = 50_000


def _few_matches_of_hashed_subqueries(alias: str, sql: str, params) -> bool:
    """Whether the planner (planning only, ~1 ms) expects at most FEW_MATCHES rows of
    ``sql`` and its plan builds a hashed subquery."""
    with connections[alias].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # text, or already parsed JSON, by driver
        plan = json.loads(plan)
    hashed = "hashed SubPlan" in json.dumps(plan)
    return hashed and float(plan[0]["Plan"]["Plan Rows"]) <= FEW_MATCHES


def _grouped_per_customer(match_sql: str) -> bool:
    """Whether the rule's statement aggregates rows per customer (``GROUP BY``: an
    event count the latest times do not answer, an rx sum over several years).

    Such a subquery cannot be tested one customer at a time, so a separate
    sample arm would run it a second time. Values are parameters, never part
    of ``match_sql``.
    """
    return "GROUP BY" in match_sql.upper()


def _sample_arm(source: str) -> str:
    """The first SAMPLE_SIZE matches by NPI, from ``source`` (a CTE or a subquery)."""
    return (
        f"SELECT * FROM (SELECT 'sample' AS part, m.npi AS v, 0 AS n FROM {source} m "
        f"ORDER BY m.npi LIMIT {SAMPLE_SIZE}) s"
    )


def _grouped_summary(match_sql: str, params: list, *, breakdown: bool) -> tuple[str, list]:
    """The count and breakdowns on PostgreSQL, from the matches grouped by all three columns.

    Grouping by (territory, specialty, decile) is a plain aggregate, which
    PostgreSQL splits across parallel workers; the count and each breakdown are
    then rolled up from those few groups. Materialising the matches instead
    leaves one process to write and read every one of them: 1.4 s against
    0.6 s for 427k matches at 1M customers (bench/README.md, "Previews").
    The sample is its own arm.
    """
    columns = [column for _, column, _ in BREAKDOWN_COLUMNS]
    listed = ", ".join(f"m.{c}" for c in columns)
    sets = ", ".join(f"({c})" for c in columns)
    arms = ["SELECT 'count' AS part, NULL AS v, COALESCE(SUM(g.n), 0) AS n FROM g"]
    for i, (name, column, order) in enumerate(BREAKDOWN_COLUMNS if breakdown else ()):
        by = f"r.{column}" if order == "value" else f"r.n DESC, r.{column}"
        arms.append(
            f"SELECT * FROM (SELECT '{name}' AS part, CAST(r.{column} AS TEXT) AS v, r.n "
            f"FROM r WHERE r.k = {i} ORDER BY {by}{_limit(order)}) b{i}"
        )
    keys = " ".join(f"WHEN GROUPING({c}) = 0 THEN {i}" for i, c in enumerate(columns))
    sql = (
        f"WITH g AS (SELECT {listed}, COUNT(*) AS n FROM ({match_sql}) m GROUP BY {listed}), "
        f"r AS (SELECT CASE {keys} END AS k, {', '.join(columns)}, SUM(n) AS n FROM g "
        f"GROUP BY GROUPING SETS ({sets})) " + " UNION ALL ".join(arms)
    )
    return sql, params


def summarise_matches(
    qs: QuerySet[Customer], *, breakdown: bool
) -> tuple[int, list[dict[str, str]], dict[str, list[tuple[str, int]]]]:
    """Count of ``qs``, its first SAMPLE_SIZE customers by NPI and (``breakdown``) its
    largest groups by territory, specialty and decile, evaluating ``qs`` once."""
    try:
        sql, params = summary_statement(qs, breakdown=breakdown)
    except EmptyResultSet:
        return 0, [], {}
    count, npis = 0, []
    groups: dict[str, list[tuple[str, int]]] = {name: [] for name, _, _ in BREAKDOWN_COLUMNS}
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        for part, value, n in cursor.fetchall():
            if part == "count":
                count = n
            elif part == "sample":
                npis.append(value)
            else:
                groups[part].append(("—" if value in (None, "") else value, n))
    sample = list(
        Customer.objects.using(qs.db)
        .filter(npi__in=npis)
        .order_by("npi")
        .values("npi", "first_name", "last_name", "specialty", "state")
    )
    return count, sample, groups if breakdown and count else {}


def _leading_index_fields(model) -> frozenset[str]:
    """Names (and columns) of ``model``'s fields that lead an index (their own, or one of
    Meta.indexes)."""
    meta = model._meta
    names = {f.name for f in meta.concrete_fields if f.db_index or f.unique or f.primary_key}
    # A partial index serves only rows of its condition: not a column's every value.
    names |= {
        index.fields[0].lstrip("-")
        for index in meta.indexes
        if index.fields and index.condition is None
    }
    # A relation's column too ("territory" is held in "territory_id").
    return frozenset(names | {meta.get_field(name).attname for name in names})


_INDEXED_CUSTOMER_FIELDS = _leading_index_fields(Customer)


def missing_shares(paths: list[str], as_of: datetime | None = None) -> dict[str, float]:
    """Share (0..1, 4 decimals) of all customers whose value of each path is missing.

    Missing is the rule language's ``is_set`` negated (docs/rules.md, "Missing
    values"; ``rules.value_present``), read where the value lives, so no
    statement probes one row per customer (a correlated ``EXISTS`` inside
    ``COUNT(*) FILTER`` did: 7 s at 1M customers for two account fields,
    bench/README.md). The customer's own columns are counted in one pass; an
    account path from the customers without an account and those of the
    accounts lacking the value (index lookups); an attribute from its rows.
    """
    if not paths:
        return {}  # a rule of events, rx and references only: nothing to count
    specs = {path: get_field(path) for path in paths}
    present = {path: value_present(spec) for path, spec in specs.items()}
    # A value that is always present (a boolean) is never missing: no count.
    missing = {path: 0 for path, q in present.items() if q is True}
    own = [p for p, spec in specs.items() if spec.scope == "customer" and p not in missing]
    customers = Customer.objects.order_by()
    # A column that leads an index has its missing values counted through it (a few
    # ms: decile, specialty, state); the others in one pass over the customers,
    # which then gives the total too (bench/README.md, "Previews").
    indexed = [p for p in own if specs[p].column in _INDEXED_CUSTOMER_FIELDS]
    scanned = [p for p in own if p not in indexed]
    if scanned:
        counts = customers.aggregate(
            total=Count("*"),
            **{f"m{i}": Count("pk", filter=~present[p]) for i, p in enumerate(scanned)},
        )
        total = counts["total"]
        missing.update({p: counts[f"m{i}"] for i, p in enumerate(scanned)})
    else:
        total = customers.count()
    missing.update({p: customers.filter(~present[p]).count() for p in indexed})
    unaffiliated = None
    for path, spec in specs.items():
        if path in missing:
            continue
        if spec.scope == "account":
            if unaffiliated is None:
                unaffiliated = customers.filter(account_id__isnull=True).count()
            lacking = Account.objects.filter(~present[path]).values("pk")
            missing[path] = unaffiliated + customers.filter(account_id__in=lacking).count()
        elif spec.scope == "influence":
            # Present: a row of the period rules read at as_of, with a value.
            network = latest_referral_network(as_of or timezone.now())
            rows = Influence.objects.filter(network_id=network).filter(present[path])
            missing[path] = total - (rows.count() if network is not None else 0)
        else:
            # At most one row per customer and key (a unique constraint).
            missing[path] = total - CustomerAttribute.objects.filter(present[path]).count()
    return {path: round(missing[path] / total, 4) if total else 0.0 for path in paths}


def fresh_accounts_query(
    *,
    entry_rule: Any,
    exit_rule: Any,
    parent: Segment | None,
    as_of: datetime,
    rollup: str = Rollup.DIRECT,
) -> QuerySet[Account]:
    """Accounts a first recompute of an account segment would admit: (E \\ X) ∩ P."""
    resolver = selectors.ReferenceResolver()
    rule = entry_rule if exit_rule is None else {"all": [entry_rule, {"not": exit_rule}]}
    qs = Account.objects.filter(
        account_filter(rule, as_of=as_of, segment_version_id=resolver, rollup=rollup),
        active=True,
    ).order_by()
    if parent is not None:
        parent_id = resolver(parent.key)
        if parent_id is None:
            return Account.objects.none()
        qs = qs.filter(pk__in=ACCOUNT.open_spells(parent_id).values("account_id"))
    return qs


# An account preview's breakdowns: (name, Account field).
ACCOUNT_BREAKDOWN_COLUMNS = (("account_type", "account_type"), ("territory", "territory_id"))


# The matching accounts of one preview, written once so that the count, the sample and
# the breakdowns read them instead of evaluating the rule four times.
PREVIEW_ACCOUNTS_TABLE = "segmentation_preview_accounts"


def summarise_accounts(
    qs: QuerySet[Account], *, breakdown: bool
) -> tuple[int, list[dict[str, str]], dict[str, list[tuple[str, int]]]]:
    """Count, the first SAMPLE_SIZE accounts by id and the breakdowns by account type
    and territory.

    Run inside a transaction. The rule is evaluated once: its accounts' ids go
    into a temporary table, and the count, the sample and the two grouped
    breakdowns (accounts are at most tens of thousands: plain grouped queries)
    read that table. Evaluated once per summary, a health-system rule over 1M
    customers took four times its membership statement (bench/README.md, "Accounts").
    """
    table = connection.ops.quote_name(PREVIEW_ACCOUNTS_TABLE)
    sql, params = ids_sql(qs.values(member=F("pk")), unit=ACCOUNT, column="member")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    matching = Account.objects.filter(pk__in=RawSQL(f"SELECT member FROM {table}", ()))
    summary = _summarise_accounts(matching, breakdown=breakdown)
    with connection.cursor() as cursor:  # (a failed statement rolls the table back with it)
        cursor.execute(f"DROP TABLE {table}")
    return summary


def _summarise_accounts(
    qs: QuerySet[Account], *, breakdown: bool
) -> tuple[int, list[dict[str, str]], dict[str, list[tuple[str, int]]]]:
    count = qs.count()
    sample = [
        {k: (v or "") for k, v in row.items()}
        for row in qs.order_by("account_id").values(
            "account_id", "name", "account_type", "state", "territory_id"
        )[:SAMPLE_SIZE]
    ]
    for row in sample:
        row["territory"] = row.pop("territory_id")
    groups: dict[str, list[tuple[str, int]]] = {}
    if breakdown and count:
        for name, column in ACCOUNT_BREAKDOWN_COLUMNS:
            rows = qs.values(column).annotate(n=Count("*")).order_by("-n", column)[:BREAKDOWN_TOP]
            groups[name] = [("—" if r[column] in (None, "") else r[column], r["n"]) for r in rows]
    return count, sample, groups


def account_missing_shares(paths: list[str]) -> dict[str, float]:
    """Share of all accounts whose value of each account rule path is missing."""
    total = Account.objects.count()
    out: dict[str, float] = {}
    for path in paths:
        spec = get_account_field(path)
        if spec is None:
            continue
        present = value_present(spec)
        if present is True:
            out[path] = 0.0
            continue
        if spec.scope == "own":
            have = Account.objects.filter(present).count()
        elif spec.column == "account_id":
            have = Account.objects.filter(parent_id__isnull=False).count()
        else:
            good = Account.objects.filter(present).values("pk")
            have = Account.objects.filter(parent_id__in=good).count()
        out[path] = round((total - have) / total, 4) if total else 0.0
    return out


def preview_rule(
    *,
    user,
    entry_rule: Any,
    exit_rule: Any = None,
    as_of: datetime | None = None,
    parent: str | None = None,
    with_missing: bool = True,
    unit: str = Unit.CUSTOMER,
    rollup: str | None = None,
) -> Preview:
    """Size of a definition without saving anything.

    ``count`` is the size a first recompute at ``as_of`` would give: with no
    members yet, M' = (E \\ X), intersected with the parent's current members
    when a parent is given. ``sample`` holds up to 20 of those customers by NPI;
    ``missing`` gives, for every field the rules use, the share (0..1) of all
    customers whose value is missing (docs/rules.md's definition of missing);
    ``with_missing=False`` skips those counts when only the size is wanted.
    ``unit="account"`` previews an account segment: the sample lists accounts,
    the breakdowns are by account type and territory.
    """
    require(user, "preview_segment")
    errors: list[ErrorDetail] = []
    if unit not in Unit.values:
        errors.append(ErrorDetail("unit", f"unknown unit {unit!r} (expected customer, account)"))
        unit = Unit.CUSTOMER
    if rollup is not None and (unit != Unit.ACCOUNT or rollup not in Rollup.values):
        errors.append(ErrorDetail("rollup", "expected direct or hierarchy (account segments)"))
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
                unit=unit,
                segment_unit=lambda k: (
                    Segment.objects.filter(key=k).values_list("unit", flat=True).first()
                ),
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
    if unit == Unit.ACCOUNT:
        return _preview_accounts(
            entry_rule=entry_rule,
            exit_rule=exit_rule,
            parent=parent_segment,
            as_of=as_of,
            rollup=rollup or Rollup.DIRECT,
            with_missing=with_missing,
        )
    paths = selectors.rule_field_paths(entry_rule) if with_missing else []
    for path in selectors.rule_field_paths(exit_rule) if with_missing else []:
        if path not in paths:
            paths.append(path)
    # A preview may read slightly old data: the replica when the request allows it
    # (docs/scaling.md); the rule's statements then run in one transaction there.
    alias = read_alias()
    with transaction.atomic(using=alias):
        without_jit(alias)
        qs = fresh_members_query(
            entry_rule=entry_rule, exit_rule=exit_rule, parent=parent_segment, as_of=as_of
        )
        # The rule is evaluated once, for the count, sample and breakdown together.
        count, sample, breakdown = summarise_matches(qs.using(alias), breakdown=with_missing)
        missing = missing_shares(paths, as_of)
    return Preview(count=count, sample=sample, missing=missing, as_of=as_of, breakdown=breakdown)


def _preview_accounts(
    *,
    entry_rule: Any,
    exit_rule: Any,
    parent: Segment | None,
    as_of: datetime,
    rollup: str,
    with_missing: bool,
) -> Preview:
    own = [p for rule in (entry_rule, exit_rule) for p in _top_level_fields(rule)]
    with transaction.atomic():
        without_jit()
        qs = fresh_accounts_query(
            entry_rule=entry_rule, exit_rule=exit_rule, parent=parent, as_of=as_of, rollup=rollup
        )
        count, sample, breakdown = summarise_accounts(qs, breakdown=with_missing)
        missing = account_missing_shares(list(dict.fromkeys(own))) if with_missing else {}
    return Preview(count=count, sample=sample, missing=missing, as_of=as_of, breakdown=breakdown)


def _top_level_fields(rule: Any) -> list[str]:
    """An account rule's own field paths (not those inside ``members``)."""
    out: list[str] = []
    stack = [rule]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("field"), str):
            out.append(node["field"])
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend(node[key])
        if "not" in node:
            stack.append(node["not"])
    return out


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
        unit=version.segment.unit,
        rollup=version.rollup if version.segment.unit == Unit.ACCOUNT else None,
    )
    with transaction.atomic():
        SegmentVersion.objects.filter(pk=version.pk).update(
            preview_count=preview.count,
            previewed_at=timezone.now(),
            previewed_hash=version.content_hash,
        )
    version.refresh_from_db(fields=["preview_count", "previewed_at", "previewed_hash"])
    return preview
