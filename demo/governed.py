"""seed_demo's governed steps: content assets, demo segments and content mappings.

Unlike the bulk steps these go through the same services as the API and the
pages (``content.services``, ``segmentation.services``, ``governance.services``)
with the demo users and their documented passwords, so every change carries
its audit event, its e-signature and the rules' checks (guards, separation of
duties, fresh previews). What they leave behind, for a reviewer to click through:

- six assets of the cardiometabolic brand: five approved (one expiring within
  30 days), one still in draft;
- ten segments: eight active (one referencing another; ``cardiozen-call-plan``
  is the one the demo publication measures; two of accounts: health systems by
  their cardiologists and payers by CARDIOZEN coverage; one of cardiology KOLs
  by referral influence), one in review with brand's approval waiting for
  access and medical, one draft;
- four mappings: three approved, one proposed (the compliance queue).

The segment rules use relative windows (``within_days``, ``months``) that are
evaluated at "now": with the default anchor (today) the active segments get
members; with an old ``--anchor`` they may be empty until new data arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from content.models import ContentAsset, ContentMapping
from content.services import create_asset, decide_mapping, propose_mapping, set_asset_status
from governance.services import activate_version, sign_version, submit_version
from segmentation.models import Segment, SegmentVersion
from segmentation.rules.examples import EXAMPLE_ENTRY_RULE, EXAMPLE_EXIT_RULE
from segmentation.services import segment_create

from .context import SeedContext
from .users import demo_password

# An approval stays valid this long; one asset expires soon so the library page flags it.
APPROVAL_DAYS = 365
EXPIRING_SOON_DAYS = 21


@dataclass(frozen=True)
class DemoAsset:
    code: str  # the codes interactions refer to (catalog.DEMO_ASSET_CODES)
    title: str
    intent: str
    therapy_area: str
    indications: tuple[str, ...]
    channels: tuple[str, ...]
    audience: str = "hcp"
    approve: bool = True
    expiring_soon: bool = False


DEMO_ASSETS: tuple[DemoAsset, ...] = (
    DemoAsset(
        "US-CARD-0002",
        "CARDIOZEN outcomes trial summary",
        "promotional",
        "cardiology",
        ("heart_failure",),
        ("rep_visit", "remote_detail", "email"),
    ),
    DemoAsset(
        "US-CARD-0004",
        "CARDIOZEN dosing guide",
        "promotional",
        "cardiology",
        ("heart_failure",),
        ("rep_visit", "email", "portal"),
        expiring_soon=True,
    ),
    DemoAsset(
        "US-META-0002",
        "GLUCOVANT HbA1c results",
        "promotional",
        "metabolic",
        ("type_2_diabetes",),
        ("email", "remote_detail", "webinar"),
    ),
    DemoAsset(
        "US-META-0004",
        "GLUCOVANT formulary access",
        "access_resource",
        "metabolic",
        ("type_2_diabetes",),
        ("email", "portal", "phone"),
    ),
    DemoAsset(
        "US-META-0005",
        "Type 2 diabetes and CV risk",
        "medical_education",
        "metabolic",
        ("type_2_diabetes", "heart_failure"),
        ("webinar", "congress", "portal"),
    ),
    DemoAsset(
        "US-CARD-0008",
        "CARDIOZEN patient support program",
        "access_resource",
        "cardiology",
        ("heart_failure",),
        ("portal", "phone"),
        audience="patient",
        approve=False,
    ),
)

# How far each segment goes through sign-off.
ACTIVE, IN_REVIEW, DRAFT = "active", "in_review", "draft"


@dataclass(frozen=True)
class DemoSegment:
    key: str
    name: str
    purpose: str
    therapy_area: str
    indications: tuple[str, ...]
    entry_rule: dict[str, Any]
    exit_rule: dict[str, Any] | None = None
    parent: str | None = None
    description: str = ""
    stage: str = ACTIVE
    unit: str = "customer"
    rollup: str | None = None


# Keys referenced by later segments come first (a reference must exist when created).
DEMO_SEGMENTS: tuple[DemoSegment, ...] = (
    DemoSegment(
        key="cardiometabolic-high-value",
        name="High-value cardiometabolic HCPs, recently engaged",
        description=(
            "Cardiologists and endocrinologists, decile 7+, who attended a webinar in the "
            "last 90 days or had two rep visits in the last 30, outside CA; they leave after "
            "180 days without any interaction (the worked example of docs/rules.md)."
        ),
        purpose="promotional",
        therapy_area="cardiometabolic",
        indications=("heart_failure", "type_2_diabetes"),
        entry_rule=EXAMPLE_ENTRY_RULE,
        exit_rule=EXAMPLE_EXIT_RULE,
    ),
    DemoSegment(
        key="endo-email-engaged",
        name="High-decile endocrinologists engaged by email",
        description="Endocrinologists, decile 7+, who opened an email in the last 180 days.",
        purpose="promotional",
        therapy_area="metabolic",
        indications=("type_2_diabetes",),
        entry_rule={
            "all": [
                {"field": "specialty", "op": "eq", "value": "endocrinology"},
                {"field": "decile", "op": "gte", "value": 7},
                {"field": "email_opt_out", "op": "eq", "value": False},
                {"event": {"channel": "email", "kind": "opened"}, "within_days": 180},
            ]
        },
    ),
    DemoSegment(
        key="endo-email-no-recent-visit",
        name="Email-engaged endocrinologists without a recent rep visit",
        description=(
            "Members of endo-email-engaged whom no rep has visited in 60 days: "
            "a remote follow-up list."
        ),
        purpose="promotional",
        therapy_area="metabolic",
        indications=("type_2_diabetes",),
        entry_rule={
            "all": [
                {"segment": "endo-email-engaged"},
                {
                    "event": {"channel": "rep_visit"},
                    "within_days": 60,
                    "count": {"op": "eq", "value": 0},
                },
            ]
        },
    ),
    DemoSegment(
        key="formulary-decision-makers",
        name="Formulary decision makers at accounts with a CARDIOZEN status",
        description=(
            "Payer, GPO and health-system decision makers whose account reports a "
            "formulary status other than preferred: the access team's pull-through list."
        ),
        purpose="market_access",
        therapy_area="cardiometabolic",
        indications=("heart_failure", "type_2_diabetes"),
        entry_rule={
            "all": [
                {"field": "role", "op": "eq", "value": "formulary_decision_maker"},
                {
                    "field": "account.formulary_status",
                    "op": "in",
                    "value": ["covered", "prior_auth", "step_edit", "not_covered"],
                },
            ]
        },
    ),
    DemoSegment(
        key="cardiozen-call-plan",
        name="CARDIOZEN call plan: cardiologists and internists who write it",
        description=(
            "Cardiologists and internal medicine physicians with at least one CARDIOZEN TRx "
            "in the last 12 months: the rep call plan the demo publishes with a holdout, so "
            "its lift can be measured."
        ),
        purpose="promotional",
        therapy_area="cardiology",
        indications=("heart_failure",),
        entry_rule={
            "all": [
                {
                    "field": "specialty",
                    "op": "in",
                    "value": ["cardiology", "internal_medicine"],
                },
                {
                    "rx": {"product": "CARDIOZEN"},
                    "metric": "trx",
                    "months": 12,
                    "sum": {"op": "gte", "value": 1},
                },
            ]
        },
    ),
    DemoSegment(
        key="lapsed-cardiologists",
        name="Lapsed cardiologists",
        description=(
            "Cardiologists with no interaction in 120 days; they leave once a rep visits again."
        ),
        purpose="promotional",
        therapy_area="cardiology",
        indications=("heart_failure",),
        entry_rule={
            "all": [
                {"field": "specialty", "op": "eq", "value": "cardiology"},
                {"event": {}, "within_days": 120, "count": {"op": "eq", "value": 0}},
            ]
        },
        exit_rule={"event": {"channel": "rep_visit"}, "within_days": 30},
        stage=IN_REVIEW,
    ),
    DemoSegment(
        key="cv-risk-education",
        name="Cardiorenal-metabolic disease education audience",
        description=(
            "Nephrologists, endocrinologists and cardiologists who attended a congress or "
            "engaged with disease education in the last 180 days."
        ),
        purpose="medical_education",
        therapy_area="cardiometabolic",
        indications=("type_2_diabetes", "heart_failure"),
        entry_rule={
            "all": [
                {
                    "field": "specialty",
                    "op": "in",
                    "value": ["nephrology", "endocrinology", "cardiology"],
                },
                {
                    "any": [
                        {"event": {"topic": "disease_education"}, "within_days": 180},
                        {"event": {"channel": "congress", "kind": "attended"}, "within_days": 180},
                    ]
                },
            ]
        },
        stage=DRAFT,
    ),
    DemoSegment(
        key="health-systems-cardiology",
        name="Health systems with high-decile cardiologists",
        description=(
            "Health systems with at least three cardiologists in decile 7 or higher across "
            "their hospitals and clinics: the key account managers' CARDIOZEN targets."
        ),
        purpose="market_access",
        therapy_area="cardiology",
        indications=("heart_failure",),
        unit="account",
        rollup="hierarchy",
        entry_rule={
            "all": [
                {"field": "account_type", "op": "eq", "value": "health_system"},
                {
                    "members": {
                        "all": [
                            {"field": "specialty", "op": "eq", "value": "cardiology"},
                            {"field": "decile", "op": "gte", "value": 7},
                        ]
                    },
                    "count": {"op": "gte", "value": 3},
                },
            ]
        },
    ),
    DemoSegment(
        key="cardiozen-restricted-payers",
        name="Payers restricting CARDIOZEN",
        description="Payers whose current CARDIOZEN coverage needs prior auth or a step edit.",
        purpose="market_access",
        therapy_area="cardiology",
        indications=("heart_failure",),
        unit="account",
        entry_rule={
            "coverage": {"product": "CARDIOZEN"},
            "status": {"op": "in", "value": ["prior_auth", "step_edit"]},
        },
    ),
    DemoSegment(
        key="cardiology-kols",
        name="Cardiology key opinion leaders",
        description=(
            "Cardiologists in the top decile of referral-network influence among "
            "cardiologists (PageRank percentile in specialty 90+): medical affairs' KOL list."
        ),
        purpose="medical_education",
        therapy_area="cardiology",
        indications=("heart_failure",),
        entry_rule={
            "all": [
                {"field": "specialty", "op": "eq", "value": "cardiology"},
                {"field": "influence.pagerank_pct_in_specialty", "op": "gte", "value": 90},
            ]
        },
    ),
)

# (asset code, segment key, rationale, approve?)
DEMO_MAPPINGS: tuple[tuple[str, str, str, bool], ...] = (
    (
        "US-CARD-0002",
        "cardiometabolic-high-value",
        "Outcomes data for engaged high-decile cardiologists.",
        True,
    ),
    (
        "US-META-0004",
        "formulary-decision-makers",
        "Formulary and coverage resource for access discussions.",
        True,
    ),
    (
        "US-CARD-0002",
        "cardiozen-call-plan",
        "Outcomes data for the CARDIOZEN call plan.",
        True,
    ),
    (
        "US-META-0002",
        "endo-email-engaged",
        "HbA1c results for the email follow-up to engaged endocrinologists.",
        False,
    ),
)


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _day(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


def seed_content_assets(ctx: SeedContext) -> None:
    """The content library: created and approved by the demo compliance user."""
    compliance = _user("compliance")
    # Approval needs a future expiry, so an old --anchor does not push it into the past.
    base = max(ctx.plan.anchor, timezone.now().date())
    approved = created = 0
    for n, demo in enumerate(DEMO_ASSETS, start=1):
        if ContentAsset.objects.filter(code=demo.code).exists():
            continue  # kept from an earlier seed (only customers and accounts gate seeding)
        if demo.expiring_soon:
            expires = timezone.now().date() + timedelta(days=EXPIRING_SOON_DAYS)
        else:
            expires = base + timedelta(days=APPROVAL_DAYS)
        asset = create_asset(
            user=compliance,
            data={
                "code": demo.code,
                "title": demo.title,
                "audience": demo.audience,
                "intent": demo.intent,
                "therapy_area": demo.therapy_area,
                "indications": list(demo.indications),
                "channels": list(demo.channels),
                "expires_at": _day(expires),
            },
        )
        created += 1
        if demo.approve:
            set_asset_status(
                user=compliance,
                asset=asset,
                status="approved",
                password=demo_password(compliance.username),
                mlr_reference=f"MLR-{base.year}-{n:04d}",
            )
            approved += 1
    ctx.add("content assets", created)
    ctx.report(f"content assets: {created} ({approved} approved)")


def _sign(version: SegmentVersion, username: str, team: str) -> None:
    sign_version(
        user=_user(username),
        version=version,
        team=team,
        decision="approve",
        comment="",
        password=demo_password(username),
    )


def seed_segments(ctx: SeedContext) -> None:
    """Demo segments authored by brand; most signed off by brand2, access and medical."""
    brand = _user("brand")
    stages: dict[str, int] = {}
    for demo in DEMO_SEGMENTS:
        if Segment.objects.filter(key=demo.key).exists():
            continue  # kept from an earlier seed
        segment = segment_create(
            user=brand,
            key=demo.key,
            name=demo.name,
            purpose=demo.purpose,
            entry_rule=demo.entry_rule,
            exit_rule=demo.exit_rule,
            parent=demo.parent,
            description=demo.description,
            therapy_area=demo.therapy_area,
            indications=list(demo.indications),
            unit=demo.unit,
            rollup=demo.rollup,
        )
        stages[demo.stage] = stages.get(demo.stage, 0) + 1
        if demo.stage == DRAFT:
            continue
        version = SegmentVersion.objects.get(segment=segment, number=1)
        submit_version(user=brand, version=version)
        _sign(version, "brand2", "brand")
        if demo.stage == IN_REVIEW:
            continue  # access and medical still to sign: the reviewers' queue
        _sign(version, "access", "access")
        _sign(version, "medical", "medical")
        activate_version(user=brand, version=version)
    ctx.add("segments", sum(stages.values()))
    ctx.report(
        "segments: "
        + ", ".join(f"{n} {stage}" for stage, n in stages.items())
        + f" ({ctx.elapsed:.0f}s)"
    )


def seed_mappings(ctx: SeedContext) -> None:
    """Content mappings proposed by brand; compliance approves some, one waits."""
    brand, compliance = _user("brand"), _user("compliance")
    proposed = approved = 0
    for code, key, rationale, approve in DEMO_MAPPINGS:
        asset = ContentAsset.objects.get(code=code)
        segment = Segment.objects.get(key=key)
        if ContentMapping.objects.filter(asset=asset, segment=segment).exists():
            continue  # kept from an earlier seed
        mapping = propose_mapping(user=brand, asset=asset, segment=segment, rationale=rationale)
        proposed += 1
        if approve:
            approved += 1
            decide_mapping(
                user=compliance,
                mapping=mapping,
                decision="approve",
                comment="Consistent with the MLR approval and the segment's indications.",
                password=demo_password(compliance.username),
            )
    ctx.add("content mappings", proposed)
    ctx.report(f"content mappings: {approved} approved, {proposed - approved} proposed")
