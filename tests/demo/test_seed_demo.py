"""seed_demo: deterministic, valid against docs/imports.md, demo users for every role, --if-empty.

Expected values come from the spec (docs/imports.md vocabularies, docs/governance.md roles)
and the documented demo passwords ("demo-<username>-2026"), not from the
generator's own tables.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Territory, User
from audit.chain import verify_audit_chain
from audit.models import AuditEvent
from audit.services import record_event
from content.models import ContentAsset, ContentMapping
from customers.models import (
    Account,
    Customer,
    CustomerAttribute,
    Interaction,
    RxFact,
    RxYear,
)
from segmentation.models import Membership, SegmentVersion
from tests.customers.helpers import assert_totals_exact
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ANCHOR = date(2026, 1, 15)
N = 300

# docs/imports.md
ACCOUNT_TYPES = {
    "health_system",
    "hospital",
    "academic_center",
    "clinic",
    "community_practice",
    "infusion_center",
    "specialty_pharmacy",
    "retail_pharmacy",
    "payer",
    "gpo",
}
FORMULARY = {"", "preferred", "covered", "prior_auth", "step_edit", "not_covered"}
CREDENTIALS = {"", "MD", "DO", "NP", "PA", "PharmD", "RN", "other"}
SPECIALTIES = {
    "cardiology",
    "oncology",
    "hematology",
    "endocrinology",
    "neurology",
    "rheumatology",
    "nephrology",
    "pulmonology",
    "gastroenterology",
    "dermatology",
    "psychiatry",
    "infectious_disease",
    "internal_medicine",
    "family_medicine",
    "pediatrics",
    "obstetrics_gynecology",
    "pharmacy",
    "nurse_practitioner",
    "other",
}
CUSTOMER_ROLES = {
    "",
    "prescriber",
    "pharmacist",
    "nurse",
    "care_coordinator",
    "formulary_decision_maker",
}
SETTINGS = {
    "",
    "hospital",
    "academic_center",
    "outpatient_clinic",
    "community_practice",
    "infusion_center",
    "pharmacy",
}
CHANNELS = {
    "rep_visit",
    "remote_detail",
    "email",
    "webinar",
    "congress",
    "speaker_program",
    "portal",
    "phone",
}
KINDS = {
    "sent",
    "opened",
    "clicked",
    "attended",
    "registered",
    "downloaded",
    "visited",
    "requested_info",
    "called",
}
TOPICS = {
    "",
    "mechanism_of_action",
    "efficacy",
    "safety",
    "dosing",
    "patient_selection",
    "access",
    "patient_support",
    "disease_education",
}
STATES = set(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP".split()
)
# docs/governance.md roles; README's demo passwords.
ROLES = ("brand", "access", "medical", "compliance", "field_lead", "admin")


def seed(*extra: str, customers: int = N, seed_value: int = 7) -> str:
    out = StringIO()
    call_command(
        "seed_demo",
        "--customers",
        str(customers),
        "--seed",
        str(seed_value),
        "--anchor",
        ANCHOR.isoformat(),
        "--history-days",
        "0",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def digest() -> str:
    """SHA-256 of every seeded row by natural key (surrogate ids and timestamps left out)."""
    h = hashlib.sha256()
    rows = [
        *Account.objects.order_by("account_id").values_list(
            "account_id",
            "name",
            "account_type",
            "parent_id",
            "state",
            "zip",
            "territory_id",
            "bed_count",
            "formulary_status",
        ),
        *Customer.objects.order_by("npi").values_list(
            "npi",
            "first_name",
            "last_name",
            "credential",
            "specialty",
            "role",
            "practice_setting",
            "account_id",
            "state",
            "zip",
            "territory_id",
            "decile",
            "email_opt_out",
        ),
        *CustomerAttribute.objects.order_by("customer__npi", "key").values_list(
            "customer__npi", "key", "value", "number"
        ),
        *Interaction.objects.order_by(
            "customer__npi", "occurred_at", "channel", "kind", "topic", "asset"
        ).values_list("customer__npi", "occurred_at", "channel", "kind", "topic", "asset"),
        *RxFact.objects.order_by("customer__npi", "month", "product").values_list(
            "customer__npi", "month", "product", "nrx", "trx", "new_patient_starts"
        ),
    ]
    for row in rows:
        h.update(repr(row).encode())
    return h.hexdigest()


def wipe() -> None:
    Interaction.objects.all().delete()
    RxFact.objects.all().delete()
    CustomerAttribute.objects.all().delete()
    Customer.objects.all().delete()
    Account.objects.filter(parent__isnull=False).delete()
    Account.objects.all().delete()


def npi_is_valid(npi: str) -> bool:
    """Luhn over '80840' + all ten digits: the check digit makes the sum a multiple of 10."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def test_same_seed_and_anchor_give_identical_data():
    seed()
    first = digest()
    wipe()
    seed()
    assert digest() == first


def test_another_seed_gives_other_data():
    seed()
    first = digest()
    wipe()
    seed(seed_value=8)
    assert digest() != first


def test_counts_follow_the_requested_size():
    seed()
    assert Customer.objects.count() == N
    assert Account.objects.count() >= 10
    assert 15 * N <= Interaction.objects.count() <= 25 * N
    assert RxFact.objects.exists()


def test_every_npi_is_valid_and_unique():
    seed()
    npis = list(Customer.objects.values_list("npi", flat=True))
    assert len(set(npis)) == N
    assert all(npi_is_valid(npi) for npi in npis)


def test_customer_values_are_in_the_vocabularies():
    seed()
    for c in Customer.objects.all():
        assert c.specialty in SPECIALTIES
        assert c.credential in CREDENTIALS
        assert c.role in CUSTOMER_ROLES
        assert c.practice_setting in SETTINGS
        assert c.state == "" or c.state in STATES
        assert c.zip == "" or re.fullmatch(r"\d{5}", c.zip)
        assert c.decile is None or 1 <= c.decile <= 10
        assert 1 <= len(c.first_name) <= 100 and 1 <= len(c.last_name) <= 100


def test_credentials_fit_the_specialty():
    seed()
    assert set(
        Customer.objects.filter(specialty="pharmacy").values_list("credential", flat=True)
    ) <= {"PharmD", "other", ""}
    assert set(
        Customer.objects.filter(specialty="nurse_practitioner").values_list("credential", flat=True)
    ) <= {"NP", ""}
    physicians = Customer.objects.filter(specialty__in=["cardiology", "endocrinology"])
    doctors = physicians.filter(credential__in=["MD", "DO"]).count()
    assert doctors >= 0.8 * physicians.count()


def test_account_values_and_hierarchy_are_valid():
    seed()
    accounts = {a.account_id: a for a in Account.objects.all()}
    assert {a.account_type for a in accounts.values()} == ACCOUNT_TYPES
    for a in accounts.values():
        assert 1 <= len(a.account_id) <= 64 and 1 <= len(a.name) <= 200
        assert a.formulary_status in FORMULARY
        assert a.state == "" or a.state in STATES
        assert a.zip == "" or re.fullmatch(r"\d{5}", a.zip)
        assert a.bed_count is None or a.bed_count >= 0
        if a.parent_id:
            # A child hangs under a health system, which has no parent: no cycles.
            assert accounts[a.parent_id].account_type == "health_system"
            assert accounts[a.parent_id].parent_id is None
    assert any(a.parent_id for a in accounts.values())
    assert any(a.bed_count for a in accounts.values() if a.account_type == "hospital")
    assert any(a.formulary_status for a in accounts.values())


def test_territories_exist_for_every_reference():
    seed()
    codes = set(Territory.objects.values_list("code", flat=True))
    assert len(codes) >= 15
    used = set(Customer.objects.exclude(territory=None).values_list("territory_id", flat=True))
    assert used <= codes


def test_interaction_values_are_in_the_vocabularies():
    seed()
    for channel, kind, topic in Interaction.objects.values_list("channel", "kind", "topic"):
        assert channel in CHANNELS
        assert kind in KINDS
        assert topic in TOPICS


def test_interactions_span_the_two_years_before_the_anchor():
    seed()
    anchor = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=UTC)
    times = Interaction.objects.values_list("occurred_at", flat=True)
    assert max(times) < anchor
    assert min(times) >= anchor - timedelta(days=730)
    assert min(times) < anchor - timedelta(days=600)  # spread, not bunched at the end
    recent = Interaction.objects.filter(occurred_at__gte=anchor - timedelta(days=90))
    assert recent.values("customer").distinct().count() >= N // 3


def test_email_funnels_open_after_sending():
    seed()
    sent = Interaction.objects.filter(channel="email", kind="sent").count()
    opened = Interaction.objects.filter(channel="email", kind="opened").count()
    clicked = Interaction.objects.filter(channel="email", kind="clicked").count()
    assert sent > opened > clicked > 0


def test_opted_out_customers_get_no_email():
    seed()
    assert Customer.objects.filter(email_opt_out=True).exists()
    assert not Interaction.objects.filter(customer__email_opt_out=True, channel="email").exists()


def test_rx_covers_the_twelve_months_before_the_anchor_month():
    seed()
    expected = set()
    month = ANCHOR.replace(day=1)
    for _ in range(12):
        month = (month - timedelta(days=1)).replace(day=1)
        expected.add(month)
    assert set(RxFact.objects.values_list("month", flat=True)) == expected
    assert {"CARDIOZEN", "GLUCOVANT", "RENALIX"} <= set(
        RxFact.objects.values_list("product", flat=True)
    )
    assert not RxFact.objects.exclude(customer__role__in=["prescriber", ""]).exists()


def test_rx_years_are_the_seeded_facts_summed():
    # The bulk writer's COPY-then-INSERT goes through the facts' triggers
    # (docs/rules.md, "Rx by calendar year").
    seed()
    assert RxYear.objects.exists()
    assert_totals_exact()


def test_deciles_are_skewed_low():
    seed()
    low = Customer.objects.filter(decile__lte=3).count()
    top = Customer.objects.filter(decile__gte=9).count()
    assert low > 2 * top > 0


def test_some_optional_fields_are_missing():
    seed()
    assert Customer.objects.filter(decile=None).exists()
    assert Customer.objects.filter(territory=None).exists()
    assert Customer.objects.filter(account=None).exists()
    assert Customer.objects.filter(credential="").exists()
    assert Customer.objects.filter(state="").exists()
    with_stage = CustomerAttribute.objects.filter(key="adoption_stage").count()
    assert 0 < with_stage < N


def test_custom_attributes_have_the_documented_values():
    seed()
    stages = set(
        CustomerAttribute.objects.filter(key="adoption_stage").values_list("value", flat=True)
    )
    assert stages <= {"early", "mainstream", "late", "laggard"}
    for value, number in CustomerAttribute.objects.filter(key="patient_volume").values_list(
        "value", "number"
    ):
        assert value.isdigit() and number == int(value)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_demo_user_who_can_log_in(role):
    seed(customers=20)
    users = [u for u in User.objects.all() if role in u.role_names]
    assert users
    client = APIClient()
    for user in users:
        answer = client.post(
            "/api/v1/auth/token/",
            {"username": user.username, "password": f"demo-{user.username}-2026"},
            format="json",
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["token"]


def test_two_brand_and_two_compliance_users_and_a_field_lead_with_two_territories():
    seed(customers=20)
    brand = [u for u in User.objects.all() if "brand" in u.role_names]
    compliance = [u for u in User.objects.all() if "compliance" in u.role_names]
    assert len(brand) >= 2 and len(compliance) >= 2
    field = User.objects.get(username="field")
    assert field.territories.count() == 2


def test_if_empty_leaves_existing_data_alone():
    CustomerFactory(npi="1234567893")
    out = seed("--if-empty")
    assert "already" in out
    assert list(Customer.objects.values_list("npi", flat=True)) == ["1234567893"]
    assert not Account.objects.exists()
    assert not User.objects.filter(username="brand").exists()


def test_if_empty_seeds_an_empty_database():
    seed("--if-empty", customers=20)
    assert Customer.objects.count() == 20


def test_seeding_a_database_with_data_is_refused():
    CustomerFactory()
    with pytest.raises(CommandError):
        seed(customers=20)
    assert Customer.objects.count() == 1


def test_seeding_is_audited_and_reports_totals():
    out = seed(customers=20)
    assert "20 customers" in out
    event = AuditEvent.objects.get(action="demo.seeded")
    assert event.after["customers"] == 20
    assert event.after["anchor"] == ANCHOR.isoformat()


def _schema_of_customer_tables() -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text LIKE 'customers_%%' "
            "UNION ALL SELECT tablename::text, indexname::text, indexdef FROM pg_indexes "
            "WHERE tablename LIKE 'customers_%%'"
        )
        return set(cursor.fetchall())


def test_postgres_bulk_load_restores_every_index_and_constraint():
    if connection.vendor != "postgresql":
        pytest.skip("the index-deferred bulk load is PostgreSQL's")
    before = _schema_of_customer_tables()
    seed(customers=20)
    assert _schema_of_customer_tables() == before


# --- governed steps: content assets, segments, mappings (docs/api.md: seed_demo seeds
# assets and segments too). They go through the services, so the audit chain must hold.


def seed_today(customers: int = 800, history_days: int = 0) -> None:
    """Seed with today's anchor: segment rules count interactions in windows ending now."""
    call_command(
        "seed_demo",
        "--customers",
        str(customers),
        "--seed",
        "7",
        "--anchor",
        timezone.now().date().isoformat(),
        "--history-days",
        str(history_days),
        stdout=StringIO(),
    )


def test_seeded_assets_are_approved_except_one_draft():
    seed_today()
    statuses = sorted(ContentAsset.objects.values_list("mlr_status", flat=True))
    assert len(statuses) >= 5
    assert statuses.count("draft") == 1
    assert set(statuses) == {"approved", "draft"}
    assert set(ContentAsset.objects.values_list("therapy_area", flat=True)) <= {
        "cardiology",
        "metabolic",
    }
    # Approval was recorded through the service: an audited, e-signed status change.
    approved = ContentAsset.objects.filter(mlr_status="approved")
    assert AuditEvent.objects.filter(action="asset.approved").count() == approved.count()


def test_one_approved_asset_expires_within_30_days_and_the_rest_later():
    seed_today()
    now = timezone.now()
    approved = ContentAsset.objects.filter(mlr_status="approved")
    soon = approved.filter(expires_at__lte=now + timedelta(days=30))
    assert soon.count() == 1
    assert soon.get().expires_at > now
    assert (
        not approved.filter(expires_at__lte=now + timedelta(days=300))
        .exclude(pk=soon.get().pk)
        .exists()
    )


def test_active_segments_have_members():
    seed_today()
    active = SegmentVersion.objects.filter(state="active")
    assert active.count() >= 3
    for version in active:
        if version.segment.unit == "account":
            assert version.account_spells.filter(exited_as_of__isnull=True).exists()
        else:
            assert Membership.objects.filter(version=version).exists(), version.segment.key


def test_one_active_segment_references_another():
    seed_today()
    assert any(
        "segment" in json.dumps(v.entry_rule) or v.parent_id
        for v in SegmentVersion.objects.filter(state="active")
    )


def test_a_version_waits_in_review_and_one_is_a_draft():
    seed_today()
    in_review = SegmentVersion.objects.get(state="in_review")
    assert SegmentVersion.objects.filter(state="draft").count() == 1
    signed = set(in_review.signatures.values_list("team", flat=True))
    assert signed and signed != {"brand", "access", "medical"}


def test_active_versions_carry_the_three_team_signatures():
    seed_today()
    for version in SegmentVersion.objects.filter(state="active"):
        teams = set(version.signatures.filter(decision="approve").values_list("team", flat=True))
        assert teams == {"brand", "access", "medical"}
        assert version.author.username not in set(
            version.signatures.values_list("signer_username", flat=True)
        )


def test_mappings_are_approved_and_one_waits_for_compliance():
    seed_today()
    approved = ContentMapping.objects.filter(state="approved")
    assert approved.exists()
    assert ContentMapping.objects.filter(state="proposed").count() >= 1
    for mapping in approved:
        assert mapping.segment_version.state == "active"
        assert mapping.decided_by_id != mapping.proposed_by_id


def test_the_audit_chain_is_intact_after_seeding(django_capture_on_commit_callbacks):
    seed_today()
    # The test's transaction never commits: anchor the chain as the next committed change would.
    with django_capture_on_commit_callbacks(execute=True):
        record_event(actor=None, action="test.anchor", object_type="test", object_id="x")
    activated = AuditEvent.objects.filter(action="segment.activated").count()
    assert activated == SegmentVersion.objects.filter(state="active").count()
    assert not AuditEvent.objects.filter(action="signature.failed").exists()
    assert verify_audit_chain().intact
