"""The bench's twenty segment definitions, each with hand-written SQL for its fresh membership.

Imported by bench_recompute.py after ``django.setup()``.
"""

from __future__ import annotations

from segmentation.rules.examples import EXAMPLE_ENTRY_RULE, EXAMPLE_EXIT_RULE

PREFIX = "bench-"
PRODUCTS = ("CARDIOZEN", "GLUCOVANT", "RENALIX", "VASTORIN", "METAFORA")


# --- the 20 segments: (key, definition, hand-written SQL for a fresh run) ------------------
# SQL placeholders: {as_of} (a timestamptz literal), {m0} (first day of as_of's month).


def ev(where: str, days: int | None, at_least: int = 1, eq: int | None = None) -> str:
    window = f"AND i.occurred_at > {{as_of}} - interval '{days} days' " if days else ""
    inner = (
        "SELECT AGG FROM customers_interaction i WHERE i.customer_id = c.id "
        f"AND i.occurred_at <= {{as_of}} {window}" + (f"AND {where}" if where else "")
    )
    if eq is not None:
        return f"({inner.replace('AGG', 'count(*)')}) = {eq}"
    if at_least == 1:
        return f"EXISTS ({inner.replace('AGG', '1')})"
    return f"({inner.replace('AGG', 'count(*)')}) >= {at_least}"


def rx(product: str | None, metric: str, months: int, gte: int) -> str:
    prod = f"AND r.product = '{product}' " if product else ""
    return (
        f"(SELECT coalesce(sum(r.{metric}), 0) FROM customers_rxfact r WHERE r.customer_id = c.id "
        f"{prod}AND r.month >= {{m0}} - interval '{months - 1} months' AND r.month <= {{m0}}) "
        f">= {gte}"
    )


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


def segments() -> list[dict]:
    """Twenty typical definitions, each with the SQL computing its fresh membership."""
    p1, p2, p3 = PRODUCTS[:3]
    cardio = {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]}
    example_entry = EXAMPLE_ENTRY_RULE
    no_touch_180 = EXAMPLE_EXIT_RULE
    k = PREFIX
    return [
        {
            "key": k + "cardio-high",
            "entry": {"all": [cardio, {"field": "decile", "op": "gte", "value": 7}]},
            "sql": "c.specialty IN ('cardiology','endocrinology') AND c.decile >= 7",
        },
        {
            "key": k + "onc-webinar",
            "entry": {
                "all": [
                    {"field": "specialty", "op": "eq", "value": "oncology"},
                    {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 90},
                ]
            },
            "sql": "c.specialty = 'oncology' AND "
            + ev("i.channel = 'webinar' AND i.kind = 'attended'", 90),
        },
        {
            "key": k + "rep-heavy",
            "entry": {
                "event": {"channel": "rep_visit"},
                "within_days": 30,
                "count": {"op": "gte", "value": 2},
            },
            "sql": ev("i.channel = 'rep_visit'", 30, at_least=2),
        },
        {
            "key": k + "email-openers",
            "entry": {
                "event": {"channel": "email", "kind": "opened"},
                "within_days": 60,
                "count": {"op": "gte", "value": 3},
            },
            "sql": ev("i.channel = 'email' AND i.kind = 'opened'", 60, at_least=3),
        },
        {
            "key": k + "never-webinar",
            "entry": {"event": {"channel": "webinar"}, "count": {"op": "eq", "value": 0}},
            "sql": ev("i.channel = 'webinar'", None, eq=0),
        },
        {
            "key": k + "rx-writers",
            "entry": {
                "rx": {"product": p1},
                "metric": "trx",
                "months": 6,
                "sum": {"op": "gte", "value": 80},
            },
            "sql": rx(p1, "trx", 6, 80),
        },
        {
            "key": k + "rx-new-starts",
            "entry": {
                "rx": {},
                "metric": "new_patient_starts",
                "months": 3,
                "sum": {"op": "gte", "value": 20},
            },
            "sql": rx(None, "new_patient_starts", 3, 20),
        },
        {
            "key": k + "big-hospitals",
            "entry": {
                "all": [
                    {
                        "field": "account.account_type",
                        "op": "in",
                        "value": ["hospital", "academic_center"],
                    },
                    {"field": "account.bed_count", "op": "gte", "value": 200},
                ]
            },
            "sql": acct("a.account_type IN ('hospital','academic_center') AND a.bed_count >= 200"),
        },
        {
            "key": k + "early-adopters",
            "entry": {
                "all": [
                    {"field": "attr.adoption_stage", "op": "eq", "value": "early"},
                    {"field": "decile", "op": "gte", "value": 5},
                ]
            },
            "sql": attr("t.value = 'early'") + " AND c.decile >= 5",
        },
        {
            "key": k + "west-not-peds",
            "entry": {
                "all": [
                    {"field": "state", "op": "in", "value": ["WA", "OR", "NV", "AZ"]},
                    {"not": {"field": "specialty", "op": "eq", "value": "pediatrics"}},
                ]
            },
            "sql": "c.state IN ('WA','OR','NV','AZ') AND c.specialty <> 'pediatrics'",
        },
        {
            "key": k + "rules-example",
            "entry": example_entry,
            "exit": no_touch_180,
            "sql": "c.specialty IN ('cardiology','endocrinology') AND c.decile >= 7 AND ("
            + ev("i.channel = 'webinar' AND i.kind = 'attended'", 90)
            + " OR "
            + ev("i.channel = 'rep_visit'", 30, at_least=2)
            + ") AND c.state IS DISTINCT FROM 'CA' AND NOT ("
            + ev("", 180, eq=0)
            + ")",
        },
        {
            "key": k + "nested",
            "entry": {
                "any": [
                    {
                        "all": [
                            {"field": "specialty", "op": "eq", "value": "cardiology"},
                            {"field": "decile", "op": "gte", "value": 8},
                        ]
                    },
                    {
                        "all": [
                            {"field": "specialty", "op": "eq", "value": "oncology"},
                            {
                                "rx": {},
                                "metric": "trx",
                                "months": 12,
                                "sum": {"op": "gte", "value": 600},
                            },
                        ]
                    },
                ]
            },
            "sql": "(c.specialty = 'cardiology' AND c.decile >= 8) OR (c.specialty = 'oncology' "
            "AND " + rx(None, "trx", 12, 600) + ")",
        },
        {
            "key": k + "cardio-congress",
            "entry": {
                "all": [
                    {"segment": k + "cardio-high"},
                    {"event": {"channel": "congress"}, "within_days": 365},
                ]
            },
            "sql": member_of(k + "cardio-high") + " AND " + ev("i.channel = 'congress'", 365),
        },
        {
            "key": k + "cardio-p2",
            "parent": k + "cardio-high",
            "entry": {
                "rx": {"product": p2},
                "metric": "nrx",
                "months": 12,
                "sum": {"op": "gte", "value": 40},
            },
            "sql": member_of(k + "cardio-high") + " AND " + rx(p2, "nrx", 12, 40),
        },
        {
            "key": k + "top-decile-sticky",
            "entry": {"field": "decile", "op": "gte", "value": 9},
            "exit": {"field": "decile", "op": "lte", "value": 5},
            "sql": "c.decile >= 9 AND NOT (c.decile IS NOT NULL AND c.decile <= 5)",
        },
        {
            "key": k + "safety-readers",
            "entry": {
                "all": [
                    {"event": {"topic": "safety"}, "within_days": 180},
                    {"not": {"segment": k + "never-webinar"}},
                ]
            },
            "sql": ev("i.topic = 'safety'", 180) + " AND NOT " + member_of(k + "never-webinar"),
        },
        {
            "key": k + "md-prescribers",
            "entry": {
                "all": [
                    {"field": "credential", "op": "in", "value": ["MD", "DO"]},
                    {"field": "role", "op": "eq", "value": "prescriber"},
                ]
            },
            "sql": "c.credential IN ('MD','DO') AND c.role = 'prescriber'",
        },
        {
            "key": k + "unknown-decile-active",
            "entry": {
                "all": [
                    {"field": "decile", "op": "is_not_set"},
                    {"event": {}, "within_days": 30},
                ]
            },
            "sql": "c.decile IS NULL AND " + ev("", 30),
        },
        {
            "key": k + "lapsing",
            "entry": {"event": {}, "within_days": 30, "count": {"op": "gte", "value": 3}},
            "exit": {"event": {}, "within_days": 90, "count": {"op": "eq", "value": 0}},
            "sql": ev("", 30, at_least=3) + " AND NOT (" + ev("", 90, eq=0) + ")",
        },
        {
            "key": k + "onc-p3-not-late",
            "entry": {
                "all": [
                    {"segment": k + "onc-webinar"},
                    {
                        "rx": {"product": p3},
                        "metric": "trx",
                        "months": 6,
                        "sum": {"op": "gte", "value": 1},
                    },
                    {"not": {"field": "attr.adoption_stage", "op": "eq", "value": "late"}},
                ]
            },
            "sql": member_of(k + "onc-webinar")
            + " AND "
            + rx(p3, "trx", 6, 1)
            + " AND NOT "
            + attr("t.value = 'late'"),
        },
    ]
