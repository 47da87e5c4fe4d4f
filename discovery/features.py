"""The feature table discovery learns over, built set-based in SQL at an as_of (docs/discovery.md).

One row per customer of the population. Every feature stands for exactly one
rule condition of docs/rules.md, so that a threshold on a feature *is* a rule:

* ``specialty=cardiology`` (vocabulary one-hot) ↔ ``{"field": "specialty", "op": "eq", ...}``;
  the learner also sees each vocabulary field as one column, so a split is an ``in`` list;
* ``decile``, ``account.bed_count``, ``attr.KEY`` (numbers) ↔ ``gte``/``lte``/``between``;
* ``event:rep_visit:90d``, ``event:webinar/attended:30d`` ↔ an event condition with
  ``within_days`` and ``count``;
* ``rx:CARDIOZEN:trx:6m``, ``rx:all:nrx:3m`` ↔ an rx condition with ``months`` and ``sum``.

Nothing loops over customers in Python: one query per family (customers with
their account; grouped interaction counts; grouped rx sums; numeric
attributes), each loaded into pandas and pivoted there.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.expressions import RawSQL

from core.words import plain
from customers.models import RX_METRICS, Customer, CustomerAttribute, Interaction, RxFact
from segmentation.rules.catalog import get_field

from .table import FAMILIES, FeatureSpec, FeatureTable, label_of

EVENT_WINDOWS = (30, 90, 180, 365)
RX_MONTHS = (3, 6, 12)
# "values that parse as numbers for at least 90% of customers who have the key"
ATTR_NUMERIC_SHARE = 0.9
MAX_ATTR_KEYS = 50

# Catalog fields that become features: vocabulary (categorical) and numeric ones.
# Free text (names, NPI, ZIP, account ids and names) tells nothing about a group.
CATEGORY_PATHS = (
    "credential",
    "specialty",
    "role",
    "practice_setting",
    "state",
    "territory",
    "email_opt_out",
    "account.account_type",
    "account.state",
    "account.territory",
    "account.formulary_status",
)
NUMERIC_PATHS = ("decile", "account.bed_count")
# ORM lookups behind each path (customer side).
_LOOKUP = {
    "credential": "credential",
    "specialty": "specialty",
    "role": "role",
    "practice_setting": "practice_setting",
    "state": "state",
    "territory": "territory_id",
    "email_opt_out": "email_opt_out",
    "decile": "decile",
    "account.account_type": "account__account_type",
    "account.state": "account__state",
    "account.territory": "account__territory_id",
    "account.formulary_status": "account__formulary_status",
    "account.bed_count": "account__bed_count",
}
# A free-text category with more distinct values than this is left out (it would not read well).
MAX_FREE_CATEGORIES = 80


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + (day.month - 1) - months_back
    year, month = divmod(index, 12)
    return dt.date(max(year, 1), month + 1, 1)


def _utc(as_of: dt.datetime) -> dt.datetime:
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=dt.UTC)
    return as_of.astimezone(dt.UTC)


def _frame(qs: QuerySet, columns: list[str], text: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of ``qs.values_list(*columns)`` as a DataFrame (through the ORM)."""
    rows = qs.values_list(*columns)
    return pd.DataFrame.from_records(list(rows.iterator(chunk_size=20000)), columns=columns)


def _bulk_frame(qs: QuerySet, columns: list[str], text: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of ``qs`` (its output columns named ``columns``) as a DataFrame.

    On PostgreSQL as one CSV text parsed by pandas' C reader (see
    :func:`_csv_frame`). Elsewhere (SQLite: tests, the demo)
    through the ORM.
    """
    if connection.vendor != "postgresql":
        return _frame(qs, columns, text)
    try:
        sql, params = qs.values_list(*columns).query.sql_with_params()
    except EmptyResultSet:
        return pd.DataFrame(columns=columns)
    return _csv_frame(sql, params, columns, text)


def _csv_frame(sql: str, params, columns: list[str], text: tuple[str, ...] = ()) -> pd.DataFrame:
    """PostgreSQL only: the rows of ``sql`` as a DataFrame, through one CSV text.

    The database writes the rows as one CSV text (``string_agg``), fetched as
    a single value and parsed by pandas' C reader: no Python object per row
    (``COPY TO STDOUT`` hands Python one message per row, which costs about
    as much as the ORM), so half a million rows load in a second
    (docs/discovery.md, "Speed"). ``text`` columns stay strings; a NULL or
    empty cell is NaN.
    """
    qn = connection.ops.quote_name
    cells = []
    for c in columns:
        if c in text:
            # NULL stays an empty cell (a NULL would drop the whole line).
            cells.append(f"""coalesce('"' || replace(s.{qn(c)}::text, '"', '""') || '"', '')""")
        else:
            cells.append(f"coalesce(s.{qn(c)}::text, '')")
    line = " || ',' || ".join(cells)
    names = ", ".join(qn(c) for c in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        # Give a hash aggregate room instead of batches on disk, and skip JIT
        # compilation (it costs more than it saves on one pass).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SELECT string_agg({line}, E'\\n') FROM ({sql}) AS s ({names})", params)
        body = cursor.fetchone()[0]
    if not body:
        return pd.DataFrame(columns=columns)
    return pd.read_csv(
        io.StringIO(body),
        header=None,
        names=columns,
        keep_default_na=False,
        na_values=[""],
        dtype={c: str for c in text},
    )


def _pivot(rows: np.ndarray, n: int, codes: np.ndarray, width: int, values) -> np.ndarray:
    """Sum ``values`` into an (n x width) float32 matrix at (rows, codes), in numpy."""
    flat = rows * width + codes
    matrix = np.bincount(flat, weights=values, minlength=n * width)
    return matrix.reshape(n, width).astype(np.float32)


def build_features(
    *, population: QuerySet[Customer], as_of: dt.datetime, families: tuple[str, ...] = FAMILIES
) -> FeatureTable:
    """Build the feature table of ``population`` at ``as_of`` (see the module docstring).

    ``population`` is a Customer queryset; the per-customer tables are filtered
    by ``customer_id IN (population)`` in SQL, so the database does the
    grouping and only aggregated rows reach pandas.
    """
    as_of = _utc(as_of)
    # Every customer: no IN filter at all (the planner then scans the facts once).
    pop_ids = population.order_by().values("pk") if population.query.where else None
    lookups = [_LOOKUP[p] for p in CATEGORY_PATHS + NUMERIC_PATHS]
    text = tuple(_LOOKUP[p] for p in CATEGORY_PATHS)
    base = _bulk_frame(population.order_by("pk"), ["id", *lookups], text)
    ids = base["id"].to_numpy(dtype=np.int64)
    index = pd.Index(ids, name="customer_id")
    few = pop_ids is not None and connection.vendor == "postgresql" and _few(len(ids))
    specs: dict[str, FeatureSpec] = {}
    numeric: dict[str, np.ndarray] = {}
    categories: dict[str, np.ndarray] = {}
    category_values: dict[str, list[str]] = {}

    if "profile" in families:
        for path in CATEGORY_PATHS:
            col = base[_LOOKUP[path]]
            if path == "email_opt_out":
                # A bool from the ORM, "t"/"f" from PostgreSQL's COPY.
                on = col.astype(str).str.lower().isin(["true", "t", "1"]).to_numpy()
                values = np.where(on, "true", "false").astype(object)
            else:
                values = col.fillna("").astype(str).to_numpy(dtype=object)
            present = sorted(set(values.tolist()) - {""})
            spec = get_field(path)
            vocabulary = spec.allowed_values if spec is not None else None
            if not present or (vocabulary is None and len(present) > MAX_FREE_CATEGORIES):
                continue
            categories[path] = values
            category_values[path] = present
        for path in NUMERIC_PATHS:
            numeric[path] = base[_LOOKUP[path]].astype("float64").to_numpy(dtype=np.float32)
            specs[path] = FeatureSpec(
                name=path, family="profile", kind="numeric", label=label_of(path), path=path
            )
        for name, values in _attr_features(pop_ids, index).items():
            numeric[name] = values
            specs[name] = FeatureSpec(
                name=name, family="profile", kind="numeric", label=name, path=name, integer=False
            )
    if "engagement" in families:
        for spec, values in _event_features(pop_ids, index, as_of, few):
            numeric[spec.name] = values
            specs[spec.name] = spec
    if "rx" in families:
        for spec, values in _rx_features(pop_ids, index, as_of, few):
            numeric[spec.name] = values
            specs[spec.name] = spec
    frame = pd.DataFrame(numeric, index=index) if numeric else pd.DataFrame(index=index)
    frame = _distinct_columns(frame)
    specs = {name: spec for name, spec in specs.items() if name in frame.columns}
    return FeatureTable(
        as_of=as_of,
        ids=ids,
        numeric=frame,
        categories=categories,
        specs=specs,
        category_values=category_values,
    )


def _distinct_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop columns missing for everyone, and columns equal to an earlier one.

    Columns come simplest first (a channel before its channel+kind pairs, all
    products before one product), so when a channel has a single kind in the
    data the rule says "rep visits", not "rep visits of kind visited".
    """
    keep: list[str] = []
    seen: dict[tuple, list[str]] = {}
    for name in frame.columns:
        values = frame[name].to_numpy(dtype=np.float64)
        present = ~np.isnan(values)
        if not present.any():
            continue
        v = np.where(present, values, 0.0)
        digest = (int(present.sum()), float(v.sum()), float((v * v).sum()), float(v[:1000].sum()))
        same = seen.setdefault(digest, [])
        if any(frame[k].equals(frame[name]) for k in same):
            continue
        same.append(name)
        keep.append(name)
    return frame[keep]


# A population below this share of all customers reads its facts through the index.
LATERAL_SHARE = 0.5


def _few(n: int) -> bool:
    """True when ``n`` customers are under half of all (PostgreSQL's estimate of all)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Customer._meta.db_table]
        )
        row = cursor.fetchone()
    return bool(row) and n < LATERAL_SHARE * float(row[0])


def _population_rows(
    rows: QuerySet, pop_ids: QuerySet | None, columns: list[str], text: tuple[str, ...], few: bool
) -> pd.DataFrame:
    """``rows`` (per-customer facts) of the population's customers, as a DataFrame.

    When the population is a small part of the customers (``few``: the
    learning sample, or a small parent, at 1M customers), on PostgreSQL each
    customer's facts are read through the ``(customer_id, ...)`` index (a
    LATERAL join) instead of scanning every fact of every customer (at 1M
    customers, 3 s instead of 20 s for a 40,000-customer sample; at 100,000
    customers, 2.5 s instead of 7 s for 20,000). Most of the customers are
    read by one scan and a hash join, which is then cheaper.
    """
    if pop_ids is None:
        return _bulk_frame(rows, columns, text)
    if connection.vendor != "postgresql" or not few:
        return _bulk_frame(rows.filter(customer_id__in=pop_ids), columns, text)
    try:
        pop_sql, pop_params = pop_ids.query.sql_with_params()
        inner = rows.filter(customer_id=RawSQL('"discovery_p"."id"', ()))
        sql, params = inner.values_list(*columns).query.sql_with_params()
    except EmptyResultSet:
        return pd.DataFrame(columns=columns)
    lateral = f"SELECT i.* FROM ({pop_sql}) AS discovery_p (id) CROSS JOIN LATERAL ({sql}) AS i"
    return _csv_frame(lateral, (*pop_params, *params), columns, text)


def _attr_features(pop_ids: QuerySet | None, index: pd.Index) -> dict[str, np.ndarray]:
    """``attr.KEY`` for keys whose values parse as numbers for >= 90% of customers having them."""
    keys = (
        CustomerAttribute.objects.exclude(value="")
        .values("key")
        .annotate(n=Count("id"), numbers=Count("number"))
        .order_by("key")
    )
    numeric_keys = [
        k["key"] for k in keys if k["numbers"] and k["numbers"] >= ATTR_NUMERIC_SHARE * k["n"]
    ][:MAX_ATTR_KEYS]
    if not numeric_keys:
        return {}
    rows = CustomerAttribute.objects.filter(key__in=numeric_keys, number__isnull=False).exclude(
        value=""
    )
    if pop_ids is not None:
        rows = rows.filter(customer_id__in=pop_ids)
    df = _frame(rows, ["customer_id", "key", "number"])
    out: dict[str, np.ndarray] = {}
    if df.empty:
        return out
    df["number"] = df["number"].astype("float64")
    wide = df.pivot(index="customer_id", columns="key", values="number").reindex(index)
    for key in numeric_keys:
        if key in wide.columns:
            out[f"attr.{key}"] = wide[key].to_numpy(dtype=np.float64)
    return out


def _event_features(
    pop_ids: QuerySet | None, index: pd.Index, as_of: dt.datetime, few: bool
) -> list[tuple[FeatureSpec, np.ndarray]]:
    """Interaction counts per channel and per (channel, kind) over each window.

    One query returns the interactions of the longest window with the
    shortest window each falls in (0 = 30 days ... 3 = 365 days); numpy counts
    them per customer and key (grouping in SQL would make one group per row).
    """
    windows = sorted(EVENT_WINDOWS)
    bucket = Case(
        *[
            When(occurred_at__gt=as_of - dt.timedelta(days=d), then=Value(i))
            for i, d in enumerate(windows)
        ],
        default=Value(len(windows)),
        output_field=IntegerField(),
    )
    rows = (
        Interaction.objects.filter(
            occurred_at__gt=as_of - dt.timedelta(days=windows[-1]), occurred_at__lte=as_of
        )
        .annotate(bucket=bucket)
        .order_by()
    )
    cols = ["customer_id", "channel", "kind", "bucket"]
    df = _population_rows(rows, pop_ids, cols, text=("channel", "kind"), few=few)
    out: list[tuple[FeatureSpec, np.ndarray]] = []
    if df.empty:
        return out
    customer = df["customer_id"].to_numpy(dtype=np.int64)
    ids = index.to_numpy()
    inside = np.isin(customer, ids)  # the population's customers only
    df, customer = df[inside], customer[inside]
    rows_at = np.searchsorted(ids, customer).astype(np.int64)
    buckets = df["bucket"].to_numpy(dtype=np.int64)
    channel_codes, channels = pd.factorize(df["channel"], sort=True)
    kind_codes, kinds = pd.factorize(df["kind"], sort=True)
    pair_codes, pairs = pd.factorize(channel_codes * len(kinds) + kind_codes, sort=True)
    pair_names = [f"{channels[p // len(kinds)]}/{kinds[p % len(kinds)]}" for p in pairs]
    for level in ("channel", "pair"):
        if level == "channel":
            codes, uniques = channel_codes, [str(c) for c in channels]
        else:
            codes, uniques = pair_codes, pair_names
        for w, d in enumerate(windows):
            inside_window = buckets <= w
            matrix = _pivot(
                rows_at[inside_window], len(ids), codes[inside_window], len(uniques), None
            )
            for k, key in enumerate(uniques):
                values = matrix[:, k]
                if not values.any():
                    continue
                channel, _, kind = key.partition("/")
                event = {"channel": channel} | ({"kind": kind} if kind else {})
                what = channel.replace("_", "-") + (f" {kind.replace('_', ' ')}" if kind else "")
                spec = FeatureSpec(
                    name=f"event:{key}:{d}d",
                    family="engagement",
                    kind="count",
                    label=f"{what} interactions, {d} days",
                    event=event,
                    within_days=d,
                )
                out.append((spec, values))
    return out


def _rx_features(
    pop_ids: QuerySet | None, index: pd.Index, as_of: dt.datetime, few: bool
) -> list[tuple[FeatureSpec, np.ndarray]]:
    """Rx sums per product and metric, and over all products, for 3, 6 and 12 months."""
    today = as_of.date()
    end = _month_start(today, -1)
    annotations = {}
    for m in RX_MONTHS:
        start = _month_start(today, m - 1)
        for metric in RX_METRICS:
            annotations[f"{metric}_{m}"] = Sum(
                Case(
                    When(month__gte=start, then=F(metric)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
    rows = (
        RxFact.objects.filter(
            month__gte=_month_start(today, max(RX_MONTHS) - 1),
            month__lt=end,
        )
        .values("customer_id", "product")
        .annotate(**annotations)
        .order_by()
    )
    cols = ["customer_id", "product", *annotations]
    df = _population_rows(rows, pop_ids, cols, text=("product",), few=few)
    out: list[tuple[FeatureSpec, np.ndarray]] = []
    if df.empty:
        return out
    customer = df["customer_id"].to_numpy(dtype=np.int64)
    ids = index.to_numpy()
    inside = np.isin(customer, ids)
    df, customer = df[inside], customer[inside]
    rows = np.searchsorted(ids, customer).astype(np.int64)
    codes, keys = pd.factorize(df["product"], sort=True)
    keys = [str(k) for k in keys]
    for metric in RX_METRICS:
        for m in RX_MONTHS:
            values = df[f"{metric}_{m}"].to_numpy(np.float64)
            matrix = _pivot(rows, len(ids), codes, len(keys), values)
            targets = [(None, matrix.sum(axis=1))] + [(p, matrix[:, k]) for k, p in enumerate(keys)]
            for product, values in targets:
                if not values.any():
                    continue
                label_product = product or "all products"
                spec = FeatureSpec(
                    name=f"rx:{product or 'all'}:{metric}:{m}m",
                    family="rx",
                    kind="sum",
                    label=f"{plain(metric)} {label_product}, {m} months",
                    rx={"product": product} if product else {},
                    metric=metric,
                    months=m,
                )
                out.append((spec, values))
    return out
