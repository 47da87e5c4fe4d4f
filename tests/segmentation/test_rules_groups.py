"""Groups, nested not, segment references, and the shape of the compiled query."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from segmentation.models import Segment, SegmentVersion
from segmentation.rules import customer_filter
from tests.factories import CustomerFactory, InteractionFactory, UserFactory
from tests.segmentation.segments_support import set_members

AS_OF = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
CA = {"field": "state", "op": "eq", "value": "CA"}
HIGH = {"field": "decile", "op": "gte", "value": 8}


def people():
    CustomerFactory(npi="1000000001", state="CA", decile=9)
    CustomerFactory(npi="1000000002", state="CA", decile=None)
    CustomerFactory(npi="1000000003", state="", decile=9)
    CustomerFactory(npi="1000000004", state="NY", decile=2)


EVERYONE = {"1000000001", "1000000002", "1000000003", "1000000004"}


def test_empty_all_is_true(db, partition):
    people()
    assert partition({"all": []}) == EVERYONE


def test_empty_any_is_false(db, partition):
    people()
    assert partition({"any": []}) == set()


def test_all_needs_every_child(db, partition):
    people()
    assert partition({"all": [CA, HIGH]}) == {"1000000001"}


def test_any_needs_one_child(db, partition):
    people()
    assert partition({"any": [CA, HIGH]}) == {"1000000001", "1000000002", "1000000003"}


def test_not_of_a_condition_on_missing_values_keeps_them(db, partition):
    people()
    # decile missing (2) and state missing (3): both are outside the positive rule
    assert partition({"not": {"all": [CA, HIGH]}}) == {"1000000002", "1000000003", "1000000004"}


def test_double_not_is_the_rule_itself(db, matching):
    people()
    assert matching({"not": {"not": HIGH}}) == matching(HIGH) == {"1000000001", "1000000003"}


def test_nested_not_inside_any_inside_not(db, partition):
    people()
    rule = {"not": {"any": [{"not": CA}, {"not": {"all": [HIGH, {"any": []}]}}]}}
    # inner: not CA -> {3,4}; not (HIGH and false) -> everyone; any -> everyone; not -> nobody
    assert partition(rule) == set()


def test_not_of_empty_groups(db, matching):
    people()
    assert matching({"not": {"all": []}}) == set()
    assert matching({"not": {"any": []}}) == EVERYONE


def test_customer_filter_combines_with_a_scope(db):
    people()
    scope = Customer.objects.filter(npi__in=["1000000001", "1000000004"]).values("id")
    q = customer_filter({"not": CA}, as_of=AS_OF, segment_version_id=lambda key: None)
    got = Customer.objects.filter(q).filter(id__in=scope).values_list("npi", flat=True)
    assert set(got) == {"1000000004"}


def test_constant_rules_negate_correctly(db):
    people()
    true_q = customer_filter({"all": []}, as_of=AS_OF, segment_version_id=lambda key: None)
    false_q = customer_filter({"any": []}, as_of=AS_OF, segment_version_id=lambda key: None)
    assert Customer.objects.filter(true_q).count() == 4
    assert Customer.objects.filter(~true_q).count() == 0
    assert Customer.objects.filter(false_q).count() == 0
    assert Customer.objects.filter(~false_q).count() == 4


def test_negating_the_q_is_the_exact_complement(db):
    people()
    q = customer_filter({"any": [CA, HIGH]}, as_of=AS_OF, segment_version_id=lambda key: None)
    inside = set(Customer.objects.filter(q).values_list("npi", flat=True))
    outside = set(Customer.objects.filter(~q).values_list("npi", flat=True))
    assert inside.isdisjoint(outside) and inside | outside == EVERYONE


# -- segment references ------------------------------------------------------------------


def version_with_members(key: str, *npis: str) -> SegmentVersion:
    author = UserFactory()
    version = SegmentVersion.objects.create(
        segment=Segment.objects.create(key=key, created_by=author),
        number=1,
        name=key,
        purpose="promotional",
        entry_rule={"all": []},
        content_hash="x",
        author=author,
    )
    set_members(
        version, Customer.objects.filter(npi__in=npis).values_list("pk", flat=True), as_of=AS_OF
    )
    return version


def test_segment_reference_reads_the_given_versions_members(db, partition):
    people()
    version = version_with_members("core", "1000000002", "1000000004")
    other = version_with_members("other", "1000000001")
    got = partition({"segment": "core"}, versions={"core": version.id, "other": other.id})
    assert got == {"1000000002", "1000000004"}


def test_segment_reference_without_a_version_matches_nobody(db, partition):
    people()
    assert partition({"segment": "core"}, versions={}) == set()


def test_segment_reference_combines_with_conditions(db, matching):
    people()
    version = version_with_members("core", "1000000002", "1000000004")
    rule = {"all": [{"segment": "core"}, {"not": CA}]}
    assert matching(rule, versions={"core": version.id}) == {"1000000004"}


# -- query shape -------------------------------------------------------------------------


def compiled_sql(rule) -> str:
    q = customer_filter(rule, as_of=AS_OF, segment_version_id=lambda key: 1)
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(q).values_list("id", flat=True))
    return queries.captured_queries[-1]["sql"].upper()


def test_one_query_and_no_joins_that_multiply_rows(db):
    sql = compiled_sql(
        {
            "all": [
                CA,
                {"field": "account.bed_count", "op": "gt", "value": 10},
                {"field": "attr.stage", "op": "eq", "value": "early"},
                {"event": {"channel": "email", "kind": "opened"}, "within_days": 30},
                {"segment": "core"},
            ]
        }
    )
    assert " JOIN " not in sql
    assert sql.count("EXISTS") == 4


def test_at_least_one_event_is_an_exists_without_grouping(db):
    sql = compiled_sql({"event": {"channel": "email", "kind": "opened"}, "within_days": 30})
    assert "EXISTS" in sql and "GROUP BY" not in sql and "COUNT(" not in sql


def test_zero_count_is_a_not_exists(db):
    sql = compiled_sql({"event": {"kind": "opened"}, "count": {"op": "eq", "value": 0}})
    assert re.search(r"NOT \(?EXISTS", sql) and "COUNT(" not in sql


def test_event_counts_stop_at_as_of(db, matching):
    customer = CustomerFactory(npi="1000000001")
    InteractionFactory(customer=customer, occurred_at=AS_OF, channel="email")
    InteractionFactory(customer=customer, occurred_at=AS_OF + dt.timedelta(days=1), channel="email")
    rule = {"event": {"channel": "email"}, "count": {"op": "eq", "value": 1}}
    assert matching(rule) == {"1000000001"}


def test_the_largest_valid_rules_compile_and_run(db, matching):
    people()
    wide = {"any": [{"field": "decile", "op": "eq", "value": 1 + i % 10} for i in range(500)]}
    deep: dict = HIGH
    for _ in range(31):
        deep = {"not": deep}
    assert matching(wide) == {"1000000001", "1000000003", "1000000004"}
    assert matching(deep) == {"1000000002", "1000000004"}  # 31 nots: the complement of HIGH
