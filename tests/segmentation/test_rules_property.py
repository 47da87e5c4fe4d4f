"""Property test: the SQL engine agrees with the pure-Python reference on random data and rules."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal, InvalidOperation

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import Territory, User
from customers.models import Account, Customer, CustomerAttribute, Interaction, RxFact
from segmentation.models import Membership, Segment, SegmentVersion
from segmentation.rules import customer_filter, validate_rule
from segmentation.rules.shared import SHARED_FROM, SharedAggregates
from segmentation.services.preview import BREAKDOWN_TOP, missing_shares, summarise_matches
from tests.factories import valid_npi
from tests.segmentation.reference import MISSING, Evaluator, World, evaluate
from tests.segmentation.segments_support import set_members

AS_OFS = [
    dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC),  # a month's first instant
    dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC),  # a year's first instant
]
OFFSETS = [
    dt.timedelta(days=-30),
    dt.timedelta(days=-30, seconds=1),
    dt.timedelta(days=-1),
    dt.timedelta(seconds=-1),
    dt.timedelta(0),
    dt.timedelta(seconds=1),
    dt.timedelta(days=-100),
    dt.timedelta(days=-400),
]
STRINGS = ["CA", "ca", "NY", "Ada", "ada", "ÉLODIE", "élodie", "A%_1", "T1", "A1", "12345", "x"]
NEEDLES = ["a", "A", "é", "É", "%", "_", "", "lo", "ca", "1"]
ATTR_VALUES = ["", "early", "Early", "5", "5.0", "10", "2.5", "abc", "-1", " 7 "]
ATTR_NUMBERS = [0, 1, 5, 2.5, 10, -1, 7, 5.0]
INTEGER_VALUES = [0, 1, 5, 7, 7.5, 10, -1, 100, 99.5]

STRING_PATHS = [
    "first_name",
    "state",
    "zip",
    "account_id",
    "territory",
    "account.state",
    "account.name",
    "account.parent_account_id",
    "account.territory",
    "account.account_id",
]
VOCAB_PATHS = {
    "credential": ["MD", "DO", "PharmD", "other"],
    "specialty": ["cardiology", "oncology"],
    "role": ["prescriber", "nurse"],
    "account.account_type": ["hospital", "clinic"],
    "account.formulary_status": ["preferred", "covered"],
}
INTEGER_PATHS = ["decile", "account.bed_count"]
ATTR_PATHS = ["attr.stage", "attr.score", "attr.nobody"]


def _parse(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


# -- rule strategies -------------------------------------------------------------------


def _string_condition(path: str, values: list[str]) -> st.SearchStrategy:
    return st.one_of(
        st.builds(
            lambda op, v: {"field": path, "op": op, "value": v},
            st.sampled_from(["eq", "ne"]),
            st.sampled_from(values),
        ),
        st.builds(
            lambda op, v: {"field": path, "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(values), min_size=1, max_size=3),
        ),
        st.builds(lambda op: {"field": path, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
        st.builds(
            lambda v: {"field": path, "op": "contains", "value": v}, st.sampled_from(NEEDLES)
        ),
    )


def _number_condition(path: str, numbers: list) -> st.SearchStrategy:
    return st.one_of(
        st.builds(
            lambda op, v: {"field": path, "op": op, "value": v},
            st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
            st.sampled_from(numbers),
        ),
        st.builds(
            lambda op, v: {"field": path, "op": op, "value": v},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(numbers), min_size=1, max_size=3),
        ),
        st.builds(
            lambda lo, hi: {"field": path, "op": "between", "value": [lo, hi]},
            st.sampled_from(numbers),
            st.sampled_from(numbers),
        ),
        st.builds(lambda op: {"field": path, "op": op}, st.sampled_from(["is_set", "is_not_set"])),
    )


def _attr_condition(path: str) -> st.SearchStrategy:
    strings = [v for v in ATTR_VALUES if v] + ["E", "6"]
    return st.one_of(
        _number_condition(path, ATTR_NUMBERS),
        _string_condition(path, strings),
        st.builds(
            lambda op, v: {"field": path, "op": op, "value": v},
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            st.sampled_from(strings),
        ),
        st.builds(
            lambda lo, hi: {"field": path, "op": "between", "value": [lo, hi]},
            st.sampled_from(strings),
            st.sampled_from(strings),
        ),
    )


def _cmp(values: list) -> st.SearchStrategy:
    return st.builds(
        lambda op, v: {"op": op, "value": v},
        st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
        st.sampled_from(values),
    )


def _event_condition() -> st.SearchStrategy:
    keys = st.fixed_dictionaries(
        {},
        optional={
            "channel": st.sampled_from(["email", "webinar"]),
            "kind": st.sampled_from(["opened", "attended"]),
            "topic": st.sampled_from(["safety", "dosing"]),
            "asset": st.sampled_from(["A1", "B2"]),
        },
    )
    return st.builds(
        lambda event, extra: {"event": event, **extra},
        keys,
        st.fixed_dictionaries(
            {},
            optional={
                "within_days": st.sampled_from([1, 30, 100]),
                "count": _cmp([0, 1, 2, 3, 4, 5, 6]),
            },
        ),
    )


def _rx_condition() -> st.SearchStrategy:
    return st.builds(
        lambda rx, metric, extra, total: {"rx": rx, "metric": metric, **extra, "sum": total},
        st.fixed_dictionaries({}, optional={"product": st.sampled_from(["P1", "P2", "P9"])}),
        st.sampled_from(["nrx", "trx", "new_patient_starts"]),
        st.fixed_dictionaries({}, optional={"months": st.sampled_from([1, 2, 3, 13])}),
        _cmp([0, 1, 2, 2.5, 5]),
    )


CONDITIONS = st.one_of(
    st.sampled_from(STRING_PATHS).flatmap(lambda p: _string_condition(p, STRINGS + [""])),
    st.sampled_from(sorted(VOCAB_PATHS)).flatmap(lambda p: _string_condition(p, VOCAB_PATHS[p])),
    st.sampled_from(INTEGER_PATHS).flatmap(lambda p: _number_condition(p, INTEGER_VALUES)),
    st.builds(
        lambda op, v: {"field": "email_opt_out", "op": op, "value": v},
        st.sampled_from(["eq", "ne"]),
        st.booleans(),
    ),
    st.sampled_from(ATTR_PATHS).flatmap(_attr_condition),
    _event_condition(),
    _rx_condition(),
    st.builds(lambda k: {"segment": k}, st.sampled_from(["s1", "s2"])),
)

RULES = st.recursive(
    CONDITIONS,
    lambda children: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(children, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(children, max_size=3)),
        st.builds(lambda x: {"not": x}, children),
    ),
    max_leaves=8,
)


# -- data strategy -----------------------------------------------------------------------


def _customer_row():
    return st.fixed_dictionaries(
        {
            "first_name": st.sampled_from(["Ada", "ada", "ÉLODIE", "élodie", "A%_1"]),
            "credential": st.sampled_from(["", "MD", "DO", "PharmD"]),
            "specialty": st.sampled_from(["cardiology", "oncology"]),
            "role": st.sampled_from(["", "prescriber", "nurse"]),
            "state": st.sampled_from(["", "CA", "NY", "ca"]),
            "zip": st.sampled_from(["", "12345"]),
            "territory": st.sampled_from([None, "T1", "T2"]),
            "account": st.sampled_from([None, "A1", "A2", "A%_1"]),
            "decile": st.sampled_from([None, 1, 5, 7, 8, 10]),
            "email_opt_out": st.booleans(),
            "attrs": st.dictionaries(
                st.sampled_from(["stage", "score"]), st.sampled_from(ATTR_VALUES), max_size=2
            ),
            "events": st.lists(
                st.tuples(
                    st.sampled_from(OFFSETS),
                    st.sampled_from(["email", "webinar"]),
                    st.sampled_from(["opened", "attended"]),
                    st.sampled_from(["", "safety"]),
                    st.sampled_from(["", "A1"]),
                ),
                # More than the five latest times InteractionRecency keeps.
                max_size=7,
            ),
            "rx": st.lists(
                st.tuples(
                    st.sampled_from([0, -1, -2, -3, -12, -13, 1]),
                    st.sampled_from(["P1", "P2"]),
                    st.integers(0, 3),
                    st.integers(0, 3),
                    st.integers(0, 2),
                ),
                max_size=3,
                unique_by=lambda r: (r[0], r[1]),
            ),
            "in_s1": st.booleans(),
        }
    )


ACCOUNTS = st.fixed_dictionaries(
    {
        name: st.fixed_dictionaries(
            {
                "account_type": st.sampled_from(["hospital", "clinic"]),
                "state": st.sampled_from(["", "CA", "NY"]),
                "bed_count": st.sampled_from([None, 0, 7, 100]),
                "formulary_status": st.sampled_from(["", "preferred", "covered"]),
                "territory": st.sampled_from([None, "T1"]),
                "name": st.sampled_from(["Ada Clinic", "ÉLODIE Health", "x"]),
            }
        )
        for name in ("A1", "A2", "A%_1")
    }
)


def _month(as_of: dt.datetime, shift: int) -> dt.date:
    index = as_of.year * 12 + as_of.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def _store(accounts: dict, rows: list[dict], as_of: dt.datetime) -> dict[str, int]:
    """Write the drawn data; return the version id of segment s1 (s2 has no version)."""
    for code in ("T1", "T2"):
        Territory.objects.get_or_create(code=code, defaults={"name": code})
    Account.objects.bulk_create(
        [
            Account(
                account_id=name,
                name=a["name"],
                account_type=a["account_type"],
                state=a["state"],
                bed_count=a["bed_count"],
                formulary_status=a["formulary_status"],
                territory_id=a["territory"],
                parent_id="A1" if name == "A2" else None,
            )
            for name, a in accounts.items()
        ]
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(
                npi=valid_npi(i),
                first_name=r["first_name"],
                last_name=f"Test{i}",
                credential=r["credential"],
                specialty=r["specialty"],
                role=r["role"],
                state=r["state"],
                zip=r["zip"],
                territory_id=r["territory"],
                account_id=r["account"],
                decile=r["decile"],
                email_opt_out=r["email_opt_out"],
            )
            for i, r in enumerate(rows)
        ]
    )
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == len(customers)
    attrs, events, facts = [], [], []
    for cid, r in zip(ids, rows, strict=True):
        for key, value in r["attrs"].items():
            attrs.append(
                CustomerAttribute(customer_id=cid, key=key, value=value, number=_parse(value))
            )
        for offset, channel, kind, topic, asset in r["events"]:
            events.append(
                Interaction(
                    customer_id=cid,
                    occurred_at=as_of + offset,
                    channel=channel,
                    kind=kind,
                    topic=topic,
                    asset=asset,
                    external_id=f"e{len(events)}",
                )
            )
        for shift, product, nrx, trx, nps in r["rx"]:
            facts.append(
                RxFact(
                    customer_id=cid,
                    month=_month(as_of, shift),
                    product=product,
                    nrx=nrx,
                    trx=trx,
                    new_patient_starts=nps,
                )
            )
    CustomerAttribute.objects.bulk_create(attrs)
    Interaction.objects.bulk_create(events)
    RxFact.objects.bulk_create(facts)
    author = User.objects.create(username="rules-author")
    segment = Segment.objects.create(key="s1", created_by=author)
    version = SegmentVersion.objects.create(
        segment=segment,
        number=1,
        name="s1",
        purpose="promotional",
        entry_rule={"all": []},
        content_hash="x",
        author=author,
    )
    set_members(version, [cid for cid, r in zip(ids, rows, strict=True) if r["in_s1"]], as_of=as_of)
    return {"s1": version.id}


class _Rollback(Exception):
    pass


def _check_preview_summary(qs, expected: set[int]) -> None:
    """The preview's count, sample and breakdown of ``qs`` are those of the ``expected`` ids."""
    count, sample, breakdown = summarise_matches(qs, breakdown=True)
    rows = list(Customer.objects.filter(pk__in=expected).values())
    assert count == len(expected)
    assert [r["npi"] for r in sample] == sorted(r["npi"] for r in rows)[:20]
    if not expected:
        assert breakdown == {}
        return
    for name, column in (("territory", "territory_id"), ("specialty", "specialty")):
        sizes: dict[str, int] = {}
        for r in rows:
            label = "—" if r[column] in (None, "") else str(r[column])
            sizes[label] = sizes.get(label, 0) + 1
        # Largest first; ties in any order, so compare the sizes and the labels' sizes.
        got = breakdown[name]
        assert [n for _, n in got] == sorted(sizes.values(), reverse=True)[:BREAKDOWN_TOP]
        assert all(sizes[label] == n for label, n in got)
    deciles = {}
    for r in rows:
        label = "—" if r["decile"] is None else str(r["decile"])
        deciles[label] = deciles.get(label, 0) + 1
    assert sum(n for _, n in breakdown["decile"]) <= len(expected)
    assert all(deciles[label] == n for label, n in breakdown["decile"])


def _check_missing_shares(world: World) -> None:
    """The preview's missing shares are the reference's share of missing values."""
    paths = [*STRING_PATHS, *VOCAB_PATHS, *INTEGER_PATHS, *ATTR_PATHS, "email_opt_out"]
    evaluator = Evaluator(world, AS_OFS[0])
    total = len(world.customers)
    got = missing_shares(paths)
    for path in paths:
        n = sum(evaluator.raw_value(path, cid) is MISSING for cid in world.customers)
        assert got[path] == round(n / total, 4), path


# Random worlds are slow to build: no deadline, and as many as RULES_PROPERTY_EXAMPLES.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("RULES_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    accounts=ACCOUNTS,
    rows=st.lists(_customer_row(), min_size=6, max_size=24),
    as_of=st.sampled_from(AS_OFS),
    rules=st.lists(RULES, min_size=1, max_size=4),
)
def test_engine_matches_reference(accounts, rows, as_of, rules):
    try:
        with transaction.atomic():
            versions = _store(accounts, rows, as_of)
            members = {"s1": set(Membership.objects.values_list("customer_id", flat=True))}
            world = World.load(members=members)
            for rule in rules:
                validate_rule(rule, segment_exists=lambda key: True)
            # A full recompute of several segments reads event counts and rx
            # sums from tables shared across them (rules/shared.py): copies
            # of each rule share every one of theirs.
            copies = [r for r in rules for _ in range(SHARED_FROM)]
            shared = SharedAggregates.plan(copies, as_of=as_of)
            shared.materialise()
            for rule in rules:
                for candidate in (rule, {"not": rule}):
                    q = customer_filter(candidate, as_of=as_of, segment_version_id=versions.get)
                    got = set(Customer.objects.filter(q).values_list("id", flat=True))
                    expected = evaluate(candidate, world, as_of)
                    event("proper subset" if 0 < len(got) < len(rows) else "all or none")
                    assert got == expected, (
                        f"rule {candidate}: engine only {got - expected}, "
                        f"reference only {expected - got}"
                    )
                    q = customer_filter(
                        candidate, as_of=as_of, segment_version_id=versions.get, shared=shared
                    )
                    got = set(Customer.objects.filter(q).values_list("id", flat=True))
                    assert got == expected, f"rule {candidate} from shared totals"
                    # Restricted to every other customer (an incremental run's
                    # scope), the engine agrees with the reference on that scope.
                    scope = sorted(Customer.objects.values_list("id", flat=True))[::2]
                    q = customer_filter(
                        candidate, as_of=as_of, segment_version_id=versions.get, customer_ids=scope
                    )
                    got = set(Customer.objects.filter(q, pk__in=scope).values_list("id", flat=True))
                    assert got == expected & set(scope), f"rule {candidate} restricted"
                    # Within a parent's members (a preview or recompute with a
                    # parent), the engine agrees with the reference on them.
                    s1 = Membership.objects.filter(version_id=versions["s1"])
                    q = customer_filter(
                        candidate,
                        as_of=as_of,
                        segment_version_id=versions.get,
                        within=s1.values("customer_id"),
                    )
                    inside_s1 = Customer.objects.filter(q, pk__in=s1.values("customer_id"))
                    got = set(inside_s1.values_list("id", flat=True))
                    assert got == expected & members["s1"], f"rule {candidate} within s1"
                    _check_preview_summary(inside_s1, expected & members["s1"])
            _check_missing_shares(world)
            raise _Rollback
    except _Rollback:
        pass
