"""Fixtures for page tests: a small world built through the services, signed-in clients."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from content.models import ContentAsset
from content.services import decide_mapping, propose_mapping
from governance import services as governance
from segmentation import services as segments
from tests.factories import CustomerFactory, TerritoryFactory
from tests.factories.accounts import DEFAULT_PASSWORD

PASSWORD = DEFAULT_PASSWORD
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CARDIOLOGY = {"field": "specialty", "op": "eq", "value": "cardiology"}
ENDOCRINOLOGY = {"field": "specialty", "op": "eq", "value": "endocrinology"}


def _draft(author, key: str, entry_rule: dict, **kwargs):
    segment = segments.segment_create(
        user=author,
        key=key,
        name=kwargs.pop("name", key.replace("-", " ").title()),
        purpose=kwargs.pop("purpose", "promotional"),
        indications=kwargs.pop("indications", ["heart_failure"]),
        entry_rule=entry_rule,
        **kwargs,
    )
    return segment.versions.get(number=1)


def decide_world_mapping(world, decision: str = "approve", comment: str = "ok"):
    """Compliance decides the world's proposed mapping (asset US-CARD-0042 for cardio)."""
    return decide_mapping(
        user=world.users.compliance,
        mapping=world.mapping,
        decision=decision,
        comment=comment,
        password=PASSWORD,
    )


@pytest.fixture
def world(make_user):
    """Two territories, a few HCPs, one active, one in-review and one draft segment,
    an approved asset and a proposed mapping; users named after their roles."""
    TerritoryFactory(code="T001", name="Manhattan")
    TerritoryFactory(code="T002", name="West")
    users = SimpleNamespace(
        author=make_user("brand", username="author", full_name="Avery Author"),
        brand=make_user("brand", username="brandsigner", full_name="Blake Brand"),
        access=make_user("access", username="accesssigner", full_name="Ada Access"),
        medical=make_user("medical", username="medicalsigner", full_name="Milo Medical"),
        compliance=make_user("compliance", username="compliance", full_name="Cora Compliance"),
        field=make_user("field_lead", username="fieldlead", territories=["T001"]),
        admin=make_user("admin", username="admin1"),
    )
    customers = [
        CustomerFactory(specialty="cardiology", decile=9, territory_id="T001", state="NY"),
        CustomerFactory(specialty="cardiology", decile=3, territory_id="T001", state="NJ"),
        CustomerFactory(
            specialty="cardiology", decile=8, territory_id="T001", state="NY", email_opt_out=True
        ),
        CustomerFactory(specialty="cardiology", decile=7, territory_id="T002", state="CA"),
        CustomerFactory(specialty="endocrinology", decile=8, territory_id="T001", state="NY"),
        CustomerFactory(specialty="oncology", decile=5, territory_id="T002", state="TX"),
    ]
    active = _draft(users.author, "cardio", CARDIOLOGY, name="Cardiologists")
    governance.submit_version(user=users.author, version=active)
    for user, team in (
        (users.brand, "brand"),
        (users.access, "access"),
        (users.medical, "medical"),
    ):
        governance.sign_version(
            user=user,
            version=active,
            team=team,
            decision="approve",
            comment="ok",
            password=PASSWORD,
        )
    active.refresh_from_db()
    active = governance.activate_version(user=users.author, version=active)
    in_review = _draft(users.author, "endo", ENDOCRINOLOGY, name="Endocrinologists")
    governance.submit_version(user=users.author, version=in_review)
    draft = _draft(users.author, "draft-seg", {"all": [CARDIOLOGY]}, name="Draft segment")
    asset = ContentAsset.objects.create(
        code="US-CARD-0042",
        title="Heart failure dosing guide",
        audience="hcp",
        intent="promotional",
        therapy_area="cardiology",
        indications=["heart_failure"],
        channels=["email", "rep_visit"],
        mlr_status="approved",
        mlr_reference="MLR-1",
        mlr_approved_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=20),
    )
    mapping = propose_mapping(
        user=users.author,
        asset=asset,
        segment=active.segment,
        rationale="Dosing for HF prescribers",
    )
    return SimpleNamespace(
        users=users,
        customers=customers,
        active=active,
        in_review=in_review,
        draft=draft,
        asset=asset,
        mapping=mapping,
    )


@pytest.fixture
def page_client():
    """A Django test client signed in as the given user."""

    def _client(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def shot(page):
    """Save a full-page screenshot under tests/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def _shot(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def login(page, live_server):
    """Sign in through the login page."""

    def _login(username: str, password: str = PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return _login
