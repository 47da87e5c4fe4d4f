"""The bench's twenty segment templates, each with hand-written SQL for its fresh membership.

``segments(0)`` are the twenty of the 1M round's measurements (rules.md's example
among them); ``segments(v)`` for v = 1..9 vary the values and windows of the
same templates, which gives the 200-segment run. Windows vary among a few
standard lengths (x1, x2, x3), as a brand team's segments do. Imported by
bench_recompute.py after ``django.setup()``.
"""

from __future__ import annotations

import datetime as dt
import re

PREFIX = "bench-"
PRODUCTS = ("CARDIOZEN", "GLUCOVANT", "RENALIX", "VASTORIN", "METAFORA")


# --- the 20 segments: (key, definition, hand-written SQL for a fresh run) ------------------
# SQL placeholders: {as_of} (a timestamptz literal), {m0} (first day of as_of's month),
# {rx:...} (an rx condition, written out for the run's as_of by written_floor).


_FACET = re.compile(r"^i\.(channel|topic) = '(\w+)'$")
KEPT = 5  # InteractionRecency's latest times per facet (RECENT_KEPT)


def ev(where: str, days: int | None, at_least: int = 1, eq: int | None = None) -> str:
    """An event condition: from InteractionRecency when its filter is one facet (every
    interaction, one channel, one topic) and its counts are up to KEPT, as the engine
    reads it (segmentation/rules/recency.py); otherwise over the interactions."""
    facet = "" if not where else None
    if (match := _FACET.match(where)) is not None:
        facet = f"{match[1]}:{match[2]}"
    if facet is not None and max(at_least, (eq or 0) + 1) <= KEPT:
        if eq is not None:
            more = f"NOT {_latest(facet, days, eq + 1)}"
            return more if eq == 0 else f"{_latest(facet, days, eq)} AND {more}"
        return _latest(facet, days, at_least)
    window = f"AND i.occurred_at > {{as_of}} - interval '{days} days' " if days else ""
    rows = f"FROM customers_interaction i WHERE i.occurred_at <= {{as_of}} {window}" + (
        f"AND {where}" if where else ""
    )
    if at_least == 1 and eq is None:
        return f"EXISTS (SELECT 1 {rows} AND i.customer_id = c.id)"
    if eq == 0:
        return f"NOT EXISTS (SELECT 1 {rows} AND i.customer_id = c.id)"
    # A count: the window's rows grouped once per customer (one index range scan),
    # not counted again for each of the 1M customers by a correlated subquery.
    having = f"= {eq}" if eq is not None else f">= {at_least}"
    return f"c.id IN (SELECT i.customer_id {rows} GROUP BY i.customer_id HAVING count(*) {having})"


def _latest(facet: str, days: int | None, m: int) -> str:
    """At least ``m`` interactions of ``facet`` in the window, from the customer's latest
    times; a row with a time after as_of has its interactions counted (the function
    of migration customers/0009), as the engine does."""
    start = f"({{as_of}} - interval '{days} days')" if days else "NULL::timestamptz"
    kept = f"r.last_{m} > {start}" if days else f"r.last_{m} IS NOT NULL"
    return (
        "EXISTS (SELECT 1 FROM customers_interactionrecency r WHERE r.customer_id = c.id "
        f"AND r.facet = '{facet}' AND ((r.last_1 <= {{as_of}} AND {kept}) OR "
        f"(r.last_1 > {{as_of}} AND customers_interactions_counted(r.customer_id, r.facet, "
        f"{start}, {{as_of}}) >= {m})))"
    )


_RX = re.compile(r"\{rx:(\w*):(\w+):(\d+):(\d+)\}")


def rx(product: str | None, metric: str, months: int, gte: int) -> str:
    """An rx condition (product "" is every product); its SQL depends on the run's as_of
    (one calendar year or several), so it is written out by ``written_floor``."""
    return f"{{rx:{product or ''}:{metric}:{months}:{gte}}}"


def _month_sum(metric: str, low: int, high: int, alias: str = "y") -> str:
    terms = [f"{alias}.{metric}_{k}" for k in range(low, high + 1)]
    if low == 1 and high == 12:  # the whole year: its yearly facts count too
        terms.append(f"{alias}.{metric}_year")
    return " + ".join(terms)


def _rx_sql(product: str, metric: str, months: int, gte: int, as_of: dt.datetime) -> str:
    """An rx condition from RxYear, as the engine reads it: a window inside one calendar
    year is one row per customer (an ``EXISTS`` on its month columns, no grouping);
    a window across New Year sums the rows of its years per customer."""
    last = dt.date(as_of.year, as_of.month, 1)
    index = last.year * 12 + last.month - 1 - (months - 1)
    first = dt.date(index // 12, index % 12 + 1, 1)
    where = f"y.product = '{product}'"
    if first.year == last.year:
        amount = _month_sum(metric, first.month, last.month)
        return (
            f"EXISTS (SELECT 1 FROM customers_rxyear y WHERE y.customer_id = c.id AND {where} "
            f"AND y.year = {last.year} AND {amount} >= {gte})"
        )
    amount = (
        f"CASE WHEN y.year = {first.year} THEN {_month_sum(metric, first.month, 12)} "
        f"WHEN y.year = {last.year} THEN {_month_sum(metric, 1, last.month)} "
        f"ELSE {_month_sum(metric, 1, 12)} END"
    )
    rows = f"FROM customers_rxyear y WHERE {where} AND y.year BETWEEN {first.year} AND {last.year}"
    if gte > 0:  # only customers with rows can reach it: one grouped pass over the years
        return (
            f"c.id IN (SELECT y.customer_id {rows} GROUP BY y.customer_id "
            f"HAVING sum({amount}) >= {gte})"
        )
    return f"(SELECT coalesce(sum({amount}), 0) {rows} AND y.customer_id = c.id) >= {gte}"


def written_floor(sql: str, as_of: dt.datetime) -> str:
    """A segment's floor SQL for a run at ``as_of`` (UTC): its rx conditions written out,
    ``{as_of}`` and ``{m0}`` (the first day of as_of's month) filled in."""
    as_of = as_of.astimezone(dt.UTC)
    lit = f"'{as_of.isoformat()}'::timestamptz"
    m0 = f"date_trunc('month', {lit} AT TIME ZONE 'UTC')::date"
    sql = _RX.sub(lambda m: _rx_sql(m[1], m[2], int(m[3]), int(m[4]), as_of), sql)
    return sql.replace("{as_of}", lit).replace("{m0}", m0)


def acct(where: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM customers_account a WHERE a.account_id = c.account_id AND {where})"
    )


def attr(where: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM customers_customerattribute t WHERE t.customer_id = c.id "
        f"AND t.key = 'adoption_stage' AND {where})"
    )


def member_of(key: str) -> str:
    return f"c.id IN (SELECT id FROM floor_{key.replace('-', '_')})"


def segments(v: int = 0) -> list[dict]:
    """Twenty typical definitions (variant ``v``), each with the SQL of its fresh membership."""
    k = PREFIX
    sfx = "" if v == 0 else f"-v{v}"
    wf = (1, 2, 1, 3, 1, 2, 1, 3, 1, 2)[v % 10]  # window factor
    p1, p2, p3 = PRODUCTS[v % 5], PRODUCTS[(1 + v) % 5], PRODUCTS[(2 + v) % 5]
    d7 = 7 - v % 3
    cardio = {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]}
    never_channel = ("webinar", "congress", "speaker_program", "portal", "phone")[v % 5]
    topic = ("safety", "efficacy", "dosing")[v % 3]
    stage = ("early", "mid", "late")[v % 3]
    not_specialty = ("pediatrics", "pharmacy", "other")[v % 3]
    role = ("prescriber", "pharmacist")[v % 2]
    rx_months = (6, 3, 12)[v % 3]
    new_starts_months = (3, 6, 12)[v % 3]
    beds = 200 + 50 * (v % 4)
    sticky_in, sticky_out = 9 - v % 2, 5 - v % 2
    example_entry = {
        "all": [
            cardio,
            {"field": "decile", "op": "gte", "value": d7},
            {
                "any": [
                    {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 90 * wf},
                    {
                        "event": {"channel": "rep_visit"},
                        "within_days": 30 * wf,
                        "count": {"op": "gte", "value": 2},
                    },
                ]
            },
            {"not": {"field": "state", "op": "eq", "value": "CA"}},
        ]
    }
    touch_days = 180 * (1 + v % 2)
    no_touch = {"event": {}, "within_days": touch_days, "count": {"op": "eq", "value": 0}}
    return [
        {
            "key": k + "cardio-high" + sfx,
            "entry": {"all": [cardio, {"field": "decile", "op": "gte", "value": d7}]},
            "sql": f"c.specialty IN ('cardiology','endocrinology') AND c.decile >= {d7}",
        },
        {
            "key": k + "onc-webinar" + sfx,
            "entry": {
                "all": [
                    {"field": "specialty", "op": "eq", "value": "oncology"},
                    {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 90 * wf},
                ]
            },
            "sql": "c.specialty = 'oncology' AND "
            + ev("i.channel = 'webinar' AND i.kind = 'attended'", 90 * wf),
        },
        {
            "key": k + "rep-heavy" + sfx,
            "entry": {
                "event": {"channel": "rep_visit"},
                "within_days": 30 * wf,
                "count": {"op": "gte", "value": 2 + v % 3},
            },
            "sql": ev("i.channel = 'rep_visit'", 30 * wf, at_least=2 + v % 3),
        },
        {
            "key": k + "email-openers" + sfx,
            "entry": {
                "event": {"channel": "email", "kind": "opened"},
                "within_days": 60 * wf,
                "count": {"op": "gte", "value": 3 + v % 2},
            },
            "sql": ev("i.channel = 'email' AND i.kind = 'opened'", 60 * wf, at_least=3 + v % 2),
        },
        {
            "key": k + "never-webinar" + sfx,
            "entry": {"event": {"channel": never_channel}, "count": {"op": "eq", "value": 0}},
            "sql": ev(f"i.channel = '{never_channel}'", None, eq=0),
        },
        {
            "key": k + "rx-writers" + sfx,
            "entry": {
                "rx": {"product": p1},
                "metric": "trx",
                "months": rx_months,
                "sum": {"op": "gte", "value": 80 + 10 * (v % 4)},
            },
            "sql": rx(p1, "trx", rx_months, 80 + 10 * (v % 4)),
        },
        {
            "key": k + "rx-new-starts" + sfx,
            "entry": {
                "rx": {},
                "metric": "new_patient_starts",
                "months": new_starts_months,
                "sum": {"op": "gte", "value": 20 + 5 * (v % 4)},
            },
            "sql": rx(None, "new_patient_starts", new_starts_months, 20 + 5 * (v % 4)),
        },
        {
            "key": k + "big-hospitals" + sfx,
            "entry": {
                "all": [
                    {
                        "field": "account.account_type",
                        "op": "in",
                        "value": ["hospital", "academic_center"],
                    },
                    {"field": "account.bed_count", "op": "gte", "value": beds},
                ]
            },
            "sql": acct(
                f"a.account_type IN ('hospital','academic_center') AND a.bed_count >= {beds}"
            ),
        },
        {
            "key": k + "early-adopters" + sfx,
            "entry": {
                "all": [
                    {"field": "attr.adoption_stage", "op": "eq", "value": stage},
                    {"field": "decile", "op": "gte", "value": 5 + v % 3},
                ]
            },
            "sql": attr(f"t.value = '{stage}'") + f" AND c.decile >= {5 + v % 3}",
        },
        {
            "key": k + "west-not-peds" + sfx,
            "entry": {
                "all": [
                    {"field": "state", "op": "in", "value": ["WA", "OR", "NV", "AZ"]},
                    {"not": {"field": "specialty", "op": "eq", "value": not_specialty}},
                ]
            },
            "sql": f"c.state IN ('WA','OR','NV','AZ') AND c.specialty <> '{not_specialty}'",
        },
        {
            "key": k + "rules-example" + sfx,
            "entry": example_entry,
            "exit": no_touch,
            "sql": f"c.specialty IN ('cardiology','endocrinology') AND c.decile >= {d7} AND ("
            + ev("i.channel = 'webinar' AND i.kind = 'attended'", 90 * wf)
            + " OR "
            + ev("i.channel = 'rep_visit'", 30 * wf, at_least=2)
            + ") AND c.state IS DISTINCT FROM 'CA' AND NOT ("
            + ev("", touch_days, eq=0)
            + ")",
        },
        {
            "key": k + "nested" + sfx,
            "entry": {
                "any": [
                    {
                        "all": [
                            {"field": "specialty", "op": "eq", "value": "cardiology"},
                            {"field": "decile", "op": "gte", "value": 8 - v % 3},
                        ]
                    },
                    {
                        "all": [
                            {"field": "specialty", "op": "eq", "value": "oncology"},
                            {
                                "rx": {},
                                "metric": "trx",
                                "months": 12,
                                "sum": {"op": "gte", "value": 600 - 50 * (v % 4)},
                            },
                        ]
                    },
                ]
            },
            "sql": f"(c.specialty = 'cardiology' AND c.decile >= {8 - v % 3}) OR "
            "(c.specialty = 'oncology' AND " + rx(None, "trx", 12, 600 - 50 * (v % 4)) + ")",
        },
        {
            "key": k + "cardio-congress" + sfx,
            "entry": {
                "all": [
                    {"segment": k + "cardio-high" + sfx},
                    {"event": {"channel": "congress"}, "within_days": 365 - 185 * (v % 2)},
                ]
            },
            "sql": member_of(k + "cardio-high" + sfx)
            + " AND "
            + ev("i.channel = 'congress'", 365 - 185 * (v % 2)),
        },
        {
            "key": k + "cardio-p2" + sfx,
            "parent": k + "cardio-high" + sfx,
            "entry": {
                "rx": {"product": p2},
                "metric": "nrx",
                "months": 12,
                "sum": {"op": "gte", "value": 40 + 5 * (v % 3)},
            },
            "sql": member_of(k + "cardio-high" + sfx)
            + " AND "
            + rx(p2, "nrx", 12, 40 + 5 * (v % 3)),
        },
        {
            "key": k + "top-decile-sticky" + sfx,
            "entry": {"field": "decile", "op": "gte", "value": sticky_in},
            "exit": {"field": "decile", "op": "lte", "value": sticky_out},
            # No exit test: a decile at least sticky_in is never at most sticky_out.
            "sql": f"c.decile >= {sticky_in}",
        },
        {
            "key": k + "safety-readers" + sfx,
            "entry": {
                "all": [
                    {"event": {"topic": topic}, "within_days": 180 * wf},
                    {"not": {"segment": k + "never-webinar" + sfx}},
                ]
            },
            "sql": ev(f"i.topic = '{topic}'", 180 * wf)
            + " AND NOT "
            + member_of(k + "never-webinar" + sfx),
        },
        {
            "key": k + "md-prescribers" + sfx,
            "entry": {
                "all": [
                    {"field": "credential", "op": "in", "value": ["MD", "DO"]},
                    {"field": "role", "op": "eq", "value": role},
                ]
            },
            "sql": f"c.credential IN ('MD','DO') AND c.role = '{role}'",
        },
        {
            "key": k + "unknown-decile-active" + sfx,
            "entry": {
                "all": [
                    {"field": "decile", "op": "is_not_set"},
                    {"event": {}, "within_days": 30 * wf},
                ]
            },
            "sql": "c.decile IS NULL AND " + ev("", 30 * wf),
        },
        {
            "key": k + "lapsing" + sfx,
            "entry": {
                "event": {},
                "within_days": 30 * wf,
                "count": {"op": "gte", "value": 3 + v % 2},
            },
            "exit": {"event": {}, "within_days": 90 * wf, "count": {"op": "eq", "value": 0}},
            # E \ X is E: three in 30 days never meet none in 90, and a hand-writer
            # who knows it writes no exit (the engine knows it too: rules/implied.py).
            "sql": ev("", 30 * wf, at_least=3 + v % 2),
        },
        {
            "key": k + "onc-p3-not-late" + sfx,
            "entry": {
                "all": [
                    {"segment": k + "onc-webinar" + sfx},
                    {
                        "rx": {"product": p3},
                        "metric": "trx",
                        "months": 6,
                        "sum": {"op": "gte", "value": 1 + v % 3},
                    },
                    {"not": {"field": "attr.adoption_stage", "op": "eq", "value": "late"}},
                ]
            },
            "sql": member_of(k + "onc-webinar" + sfx)
            + " AND "
            + rx(p3, "trx", 6, 1 + v % 3)
            + " AND NOT "
            + attr("t.value = 'late'"),
        },
    ]
