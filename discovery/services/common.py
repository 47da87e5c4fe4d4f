"""What every discovery job shares: input checks, the population, the list, the engine's count.

docs/discovery.md: the population is every customer, or the current members
of a ``parent`` segment; a list is matched to customers by NPI through a
temporary table (no parameter limits, one join); rules are measured by the
segment engine itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit.services import record_event
from core.errors import ErrorDetail, NotFound, ValidationFailed
from core.time import as_utc, iso_z
from customers.models import Customer
from segmentation.models import Membership
from segmentation.rules import customer_filter, validate_rule
from segmentation.selectors import ReferenceResolver, current_version, segment_get

from ..models import DiscoveryRun
from ..table import FeatureTable

Progress = Callable[[float], None]
LIST_TABLE = "discovery_list"
MIN_NPIS, MAX_NPIS = 10, 200_000
MAX_LISTED = 20  # offending NPIs named in an error


def no_progress(value: float) -> None:
    """The progress callback when nobody listens."""


@dataclass
class Population:
    """The customers discovery learns over: a queryset and the Q that selects them."""

    parent: str | None
    customers: QuerySet[Customer]
    q: Q | None  # None: every customer

    def count(self) -> int:
        return self.customers.count()


def resolve_as_of(as_of: dt.datetime | None) -> dt.datetime:
    return as_utc(as_of) if as_of is not None else timezone.now()


def population_of(parent: str | None) -> Population:
    """Every customer, or the current members of segment ``parent`` (400 when unknown)."""
    if parent in (None, ""):
        return Population(parent=None, customers=Customer.objects.all(), q=None)
    if not isinstance(parent, str):
        raise ValidationFailed("must be a segment key", path="parent")
    try:
        segment = segment_get(key=parent)
    except NotFound:
        raise ValidationFailed(f"unknown segment '{parent}'", path="parent") from None
    version = current_version(segment)
    members = Membership.objects.filter(version=version).values("customer_id")
    q = Q(pk__in=members)
    return Population(parent=parent, customers=Customer.objects.filter(q), q=q)


def check_population(population: Population) -> int:
    size = population.count()
    if size == 0:
        where = (
            f"segment '{population.parent}' has no members"
            if population.parent
            else ("there are no customers")
        )
        raise ValidationFailed(
            f"the population is empty ({where}); choose another parent or load customers",
            path="parent" if population.parent else "",
        )
    return size


def check_constant(table: FeatureTable) -> None:
    """400 when no feature varies over the population: there is nothing to learn from."""
    varying = any(table.numeric[c].nunique(dropna=False) > 1 for c in table.numeric.columns)
    varying = varying or any(len(set(v.tolist())) > 1 for v in table.categories.values())
    if not varying:
        raise ValidationFailed(
            "every feature is constant over this population, so nothing tells customers apart; "
            "widen the population (another parent, or none)",
            path="parent" if len(table) else "",
        )


def clean_npis(npis) -> list[str]:
    """The distinct NPIs of a request, in order; 400 for a wrong type or size."""
    if not isinstance(npis, list):
        raise ValidationFailed("must be a list of NPIs (strings)", path="npis")
    if len(npis) > MAX_NPIS:
        raise ValidationFailed(
            f"{len(npis)} NPIs given; at most {MAX_NPIS:,} are accepted", path="npis"
        )
    bad = [i for i, n in enumerate(npis) if not isinstance(n, str)]
    if bad:
        raise ValidationFailed(
            errors=[ErrorDetail(f"npis[{i}]", "must be a string") for i in bad[:MAX_LISTED]]
        )
    distinct = list(dict.fromkeys(n.strip() for n in npis if n.strip()))
    if len(distinct) < MIN_NPIS:
        raise ValidationFailed(
            f"{len(distinct)} distinct NPIs given; at least {MIN_NPIS} are needed", path="npis"
        )
    return distinct


def npis_sha256(npis: list[str]) -> str:
    """SHA-256 of the sorted NPIs joined by newlines (what provenance records)."""
    return hashlib.sha256("\n".join(sorted(npis)).encode("ascii", "replace")).hexdigest()


def write_list(npis: list[str]) -> RawSQL:
    """Write the NPIs to a temporary table; return a subquery of their customer ids."""
    t = connection.ops.quote_name(LIST_TABLE)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {t}")
        cursor.execute(f"CREATE TEMPORARY TABLE {t} (npi varchar(32) PRIMARY KEY, id bigint)")
        for start in range(0, len(npis), 500):
            chunk = npis[start : start + 500]
            cursor.execute(
                f"INSERT INTO {t} (npi) VALUES {', '.join(['(%s)'] * len(chunk))}", chunk
            )
        cursor.execute(
            f"UPDATE {t} SET id = (SELECT c.id FROM {customers} c WHERE c.npi = {t}.npi)"
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {t}")
    return RawSQL(f"SELECT id FROM {t} WHERE id IS NOT NULL", ())


@dataclass
class ListMatch:
    """The list's customers in the population, their subquery, and the NPIs skipped."""

    ids: np.ndarray
    subquery: RawSQL
    ignored: list[str]


def _named(npis: list[str]) -> str:
    shown = ", ".join(npis[:MAX_LISTED])
    more = f" and {len(npis) - MAX_LISTED} more" if len(npis) > MAX_LISTED else ""
    return shown + more


def list_ids(npis: list[str], population: Population, *, ignore_unknown: bool = False) -> ListMatch:
    """Customer ids of the list inside the population.

    NPIs that match no customer, or a customer outside the population, are a
    400 naming (at most 20) of them; with ``ignore_unknown`` they are skipped
    and returned in ``ignored`` instead (sorted), and the rest must still
    hold at least 10 NPIs.
    """
    write_list(npis)
    t = connection.ops.quote_name(LIST_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT npi FROM {t} WHERE id IS NULL ORDER BY npi")
        unknown = [row[0] for row in cursor.fetchall()]
    if unknown and not ignore_unknown:
        raise ValidationFailed(
            f"{len(unknown)} NPIs match no customer: {_named(unknown)}; remove them, import "
            'those customers first, or send "ignore_unknown": true to skip them',
            path="npis",
        )
    subquery = RawSQL(f"SELECT id FROM {t} WHERE id IS NOT NULL", ())
    ids = np.array(sorted(Customer.objects.filter(pk__in=subquery).values_list("pk", flat=True)))
    outside: list[str] = []
    if population.q is not None:
        inside = set(population.customers.filter(pk__in=subquery).values_list("pk", flat=True))
        outside_ids = [int(i) for i in ids if int(i) not in inside]
        if outside_ids:
            outside = sorted(
                Customer.objects.filter(pk__in=outside_ids).values_list("npi", flat=True)
            )
            if not ignore_unknown:
                raise ValidationFailed(
                    f"{len(outside)} NPIs are not in the population (members of "
                    f"'{population.parent}'): {_named(outside)}; remove them, choose another "
                    'parent, or send "ignore_unknown": true to skip them',
                    path="npis",
                )
            ids = np.array(sorted(inside), dtype=np.int64)
            with connection.cursor() as cursor:
                for start in range(0, len(outside), 500):
                    chunk = outside[start : start + 500]
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(f"UPDATE {t} SET id = NULL WHERE npi IN ({marks})", chunk)
    ignored = sorted(unknown + outside)
    if ignored and len(ids) < MIN_NPIS:
        raise ValidationFailed(
            f"only {len(ids)} of the NPIs are customers of the population once "
            f"{len(ignored)} are skipped; at least {MIN_NPIS} are needed",
            path="npis",
        )
    return ListMatch(ids=ids, subquery=subquery, ignored=ignored)


SAMPLE_TABLE = "discovery_sample"


def population_ids(population: Population) -> np.ndarray:
    """The population's customer ids, ascending.

    On PostgreSQL as one text value (a million ids in a fraction of a second,
    against seconds through the ORM's row objects).
    """
    ids = population.customers.order_by("pk").values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        return np.fromiter(ids.iterator(chunk_size=50_000), dtype=np.int64)
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT string_agg(s.id::text, ' ') FROM ({sql}) AS s (id)", params)
        text = cursor.fetchone()[0]
    # string_agg keeps no order of its own: sort here (cheaper than in SQL).
    return np.sort(np.array(text.split(), dtype=np.int64)) if text else np.zeros(0, np.int64)


def sample_population(ids: np.ndarray) -> QuerySet[Customer]:
    """Customers with these ids (written to a temporary table: no parameter limits)."""
    t = connection.ops.quote_name(SAMPLE_TABLE)
    values = [int(i) for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {t}")
        cursor.execute(f"CREATE TEMPORARY TABLE {t} (id bigint PRIMARY KEY)")
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {t} (id) FROM STDIN") as cp:
                cp.write("".join(f"{v}\n" for v in values))
            cursor.execute(f"ANALYZE {t}")
        else:
            for start in range(0, len(values), 1000):
                chunk = values[start : start + 1000]
                marks = ", ".join(["(%s)"] * len(chunk))
                cursor.execute(f"INSERT INTO {t} (id) VALUES {marks}", chunk)
    return Customer.objects.filter(pk__in=RawSQL(f"SELECT id FROM {t}", ()))


def valid_rule(rule: dict) -> None:
    """Every suggestion is a rule the engine accepts (docs/rules.md)."""
    validate_rule(rule, path="entry_rule", segment_exists=lambda key: False)


def engine_selection(
    rule: dict,
    *,
    as_of: dt.datetime,
    population: Population,
    within: QuerySet[Customer] | None = None,
) -> QuerySet:
    """The customers of the population that ``rule`` selects at ``as_of``, by the segment engine.

    ``within`` (a sample of the population) limits the evaluation to those
    customers: the engine then aggregates their events and rx only.
    """
    restriction = within.order_by().values("pk") if within is not None else None
    q = customer_filter(
        rule, as_of=as_of, segment_version_id=ReferenceResolver(), customer_ids=restriction
    )
    qs = Customer.objects.filter(q)
    if within is not None:
        qs = qs.filter(pk__in=restriction)
    if population.q is not None:
        qs = qs.filter(population.q)
    return qs


# Customers of consecutive ids a sample of the population takes together (see sample_of).
SAMPLE_BLOCK = 50


LABELS_TABLE = "discovery_labels"


def _write_labels(ids: np.ndarray, labels: np.ndarray) -> str:
    """(customer id, group) pairs in a temporary table; returns its quoted name."""
    t = connection.ops.quote_name(LABELS_TABLE)
    pairs = [(int(i), int(g)) for i, g in zip(ids, labels, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {t}")
        cursor.execute(f"CREATE TEMPORARY TABLE {t} (id bigint PRIMARY KEY, grp integer)")
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {t} (id, grp) FROM STDIN") as cp:
                cp.write("".join(f"{i}\t{g}\n" for i, g in pairs))
            cursor.execute(f"ANALYZE {t}")
        else:
            for start in range(0, len(pairs), 500):
                chunk = pairs[start : start + 500]
                marks = ", ".join(["(%s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {t} (id, grp) VALUES {marks}", [v for p in chunk for v in p]
                )
    return t


def group_fidelity(
    rules: list[dict],
    *,
    ids: np.ndarray,
    labels: np.ndarray,
    as_of: dt.datetime,
    population: Population,
    within: QuerySet[Customer] | None = None,
) -> list[tuple[int, int]]:
    """For each group ``g``: (customers ``rules[g]`` selects, of them in group ``g``).

    ``labels[i]`` is the group of customer ``ids[i]``. The rules are
    evaluated by the segment engine over the population (or over ``within``,
    a sample of it) in one SQL statement, each rule once per customer.
    """
    t = _write_labels(ids, labels)
    restriction = within.order_by().values("pk") if within is not None else None
    qs = Customer.objects.all() if within is None else Customer.objects.filter(pk__in=restriction)
    if population.q is not None:
        qs = qs.filter(population.q)
    # Each rule once per customer, as a boolean column; the counts are taken around it.
    matches = {
        f"rule_{g}": ExpressionWrapper(
            customer_filter(
                rule, as_of=as_of, segment_version_id=ReferenceResolver(), customer_ids=restriction
            ),
            output_field=BooleanField(),
        )
        for g, rule in enumerate(rules)
    }
    if not matches:
        return []
    rows = qs.order_by().annotate(**matches).values(*matches, customer=F("pk"))
    sql, params = rows.query.sql_with_params()
    sums = ", ".join(
        f"SUM(CASE WHEN s.rule_{g} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN s.rule_{g} AND l.grp = {g} THEN 1 ELSE 0 END)"
        for g in range(len(rules))
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sums} FROM ({sql}) s LEFT JOIN {t} l ON l.id = s.customer", params)
        row = cursor.fetchone()
    return [(int(row[2 * g] or 0), int(row[2 * g + 1] or 0)) for g in range(len(rules))]


def sample_of(population: Population, *, limit: int, seed: int) -> tuple[QuerySet[Customer], int]:
    """The population, or a fixed random sample of about ``limit`` of its customers when larger.

    Returns the customers and the population's size. The sample is a random
    choice of blocks of 50 customers of consecutive ids (a cluster sample):
    their events and rx sit next to each other in the ``(customer_id, ...)``
    indexes, so reading them touches a few pages per block instead of a few
    per customer, which matters when those pages are not in memory (at 1M
    customers, 20,000 scattered customers cost a minute of random reads).
    The seed is fixed, so the same data gives the same sample
    (docs/discovery.md, "Speed").
    """
    everyone = population_ids(population)
    if len(everyone) <= limit:
        return population.customers, len(everyone)
    rng = np.random.default_rng(seed)
    blocks = -(-len(everyone) // SAMPLE_BLOCK)
    chosen = np.sort(rng.choice(blocks, size=max(1, limit // SAMPLE_BLOCK), replace=False))
    rows = (chosen[:, None] * SAMPLE_BLOCK + np.arange(SAMPLE_BLOCK)[None, :]).ravel()
    return sample_population(everyone[rows[rows < len(everyone)]]), len(everyone)


def scaled_counts(counts: np.ndarray, total: int) -> np.ndarray:
    """``counts`` (of a sample) scaled to add up to ``total`` exactly (largest remainders)."""
    n = int(counts.sum())
    if n == 0 or n == total:
        return counts.astype(np.int64)
    exact = counts * (total / n)
    out = np.floor(exact).astype(np.int64)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[: total - int(out.sum())]:
        out[i] += 1
    return out


def sample_rows(y: np.ndarray, *, limit: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows to learn from and their weights: everything when small, else a stratified sample.

    Each class keeps at most ``limit // 2`` rows (the smaller class keeps all
    of its rows if it fits); weights are the inverse sampling rates, so the
    learner still sees the population's proportions.
    """
    n = len(y)
    if n <= limit:
        return np.arange(n), np.ones(n)
    rng = np.random.default_rng(seed)
    rows, weights = [], []
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    small, large = (pos, neg) if len(pos) <= len(neg) else (neg, pos)
    keep_small = (
        small
        if len(small) <= limit // 2
        else np.sort(rng.choice(small, size=limit // 2, replace=False))
    )
    keep_large = np.sort(rng.choice(large, size=limit - len(keep_small), replace=False))
    for full, kept in ((small, keep_small), (large, keep_large)):
        rows.append(kept)
        weights.append(np.full(len(kept), len(full) / len(kept)))
    rows_all = np.concatenate(rows)
    w_all = np.concatenate(weights)
    order = np.argsort(rows_all)
    return rows_all[order], w_all[order]


def save_run(
    *, user, scope: Population, result: dict[str, Any], audit: dict[str, Any], **fields: Any
) -> DiscoveryRun:
    """Store a run with its answer (``result`` gains the run's ``id``) and audit it.

    docs/discovery.md, "Saving a suggestion": the audit trail records each run
    as ``discovery_run.created``; ``audit`` adds what the kind of run tells
    (the list's size and hash and the rule, or k and the labels) to the fields
    every run records. ``scope`` is the population the run learned over;
    ``fields`` are the DiscoveryRun columns of the kind.
    """
    with transaction.atomic():
        run = DiscoveryRun.objects.create(
            user=user, parent_key=scope.parent or "", result=result, **fields
        )
        run.result = {"id": run.pk, **result}
        run.save(update_fields=["result"])
        record_event(
            actor=user,
            action="discovery_run.created",
            object_type="discovery_run",
            object_id=run.pk,
            after={
                "kind": run.kind,
                "as_of": iso_z(run.as_of),
                "parent": scope.parent,
                "population": run.population,
                **audit,
            },
        )
    return run
