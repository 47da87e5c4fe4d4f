"""Single sign-on in the browser against a real OpenID Connect provider on loopback
(docs/identity.md): sign-in, role mapping, refusal, a signature by re-authentication,
replayed and stale answers. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import signing
from accounts.models import OidcIdentity
from audit.models import AuditEvent
from governance.models import Signature
from segmentation.models import Segment
from tests.identity.provider import set_claims
from tests.pages.browser import fill_new_segment, save_draft
from tests.pages.conftest import CARDIOLOGY, login, shot, world  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _at_provider(page, sub: str) -> None:
    """The provider's sign-in form: authenticate as ``sub``."""
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_load_state("networkidle")


def _sso_sign_in(page, live_server, sub: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    _at_provider(page, sub)


def test_brand_signs_in_and_can_author_but_not_sign_for_another_team(
    world,  # noqa: F811
    page,
    live_server,
    sso,
    shot,  # noqa: F811
):
    set_claims(sso, "bea-sub", name="Bea Brand", email="bea@example.com", groups=["brand"])
    _sso_sign_in(page, live_server, "bea-sub")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("Bea Brand").first).to_be_visible()
    user = OidcIdentity.objects.get(subject="bea-sub").user
    assert user.role_names == {"brand"}

    # Authoring: a brand user saves a draft through the new-segment page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    fill_new_segment(page, "bea-cardio", "Bea's cardiologists", {"all": [CARDIOLOGY]})
    save_draft(page)
    assert Segment.objects.get(key="bea-cardio").versions.get(number=1).author == user

    # Signing: the form offers the brand team only; a forged "access" is refused.
    page.goto(f"{live_server.url}/reviews/endo/v1/")
    team = page.locator("#id_team")
    expect(team.locator("option")).to_have_count(1)
    expect(team.locator("option")).to_have_text("brand")
    expect(page.get_by_test_id("reauth-note")).to_be_visible()
    team.evaluate("el => { el.options[0].value = 'access'; }")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Sign version").click()
    expect(page.get_by_text("only a user holding the access role")).to_be_visible()
    assert not Signature.objects.filter(signer=user).exists()
    shot("sso-brand-refused-other-team")
    # Compliance's pages stay closed to brand.
    assert page.goto(f"{live_server.url}/audit/").status == 403


def test_role_mapping_and_refusal_without_a_role(page, live_server, sso, shot):  # noqa: F811
    set_claims(sso, "fred-sub", name="Fred Field", groups=["field_lead"], territories=["T009"])
    _sso_sign_in(page, live_server, "fred-sub")
    expect(page).to_have_url(re.compile(r"/territories/"))
    expect(page.get_by_text("T009").first).to_be_visible()

    page.context.clear_cookies()
    set_claims(sso, "fred-sub", name="Fred Field", groups=["it-staff"])
    _sso_sign_in(page, live_server, "fred-sub")
    expect(page.get_by_role("heading", name="No role for you here")).to_be_visible()
    expect(page.get_by_text("it-staff")).to_be_visible()
    shot("sso-no-role")
    page.goto(f"{live_server.url}/territories/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert OidcIdentity.objects.get(subject="fred-sub").user.role_names == frozenset()


def test_a_reviewer_signs_by_re_authentication_and_the_audit_trail_shows_it(
    world,  # noqa: F811
    page,
    live_server,
    sso,
    login,  # noqa: F811
    shot,  # noqa: F811
):
    set_claims(sso, "rita-sub", name="Rita Reviewer", groups=["access"])
    _sso_sign_in(page, live_server, "rita-sub")
    page.goto(f"{live_server.url}/reviews/endo/v1/")
    page.get_by_label("Approve").check()
    page.get_by_label(re.compile("Comment")).fill("Fits the access plan.")
    page.get_by_role("button", name="Sign version").click()
    # At the provider again: prompt=login asks who signs.
    expect(page.locator("input[name=sub]")).to_be_visible()
    assert "prompt=login" in page.url and "max_age=0" in page.url
    _at_provider(page, "rita-sub")
    expect(page.get_by_text(re.compile("You approved endo v1 for the access team"))).to_be_visible()
    expect(page.get_by_test_id("signature-method").first).to_contain_text(
        f"re-authenticated at {sso}"
    )
    shot("sso-signed-by-reauthentication")
    signature = Signature.objects.get(signer__username__startswith="rita")
    assert (signature.method, signature.issuer) == ("oidc", sso)

    # The audit trail, seen by a local administrator (break-glass, itself audited).
    page.context.clear_cookies()
    login(world.users.admin.username)
    page.goto(f"{live_server.url}/audit/?action=segment.signed")
    # The action reads in words ("segment signed"); its code is the cell's tooltip.
    row = page.locator("tr", has_text="segment signed").filter(has_text=signature.signer_username)
    expect(row).to_have_count(1)
    row.get_by_text("before / after").click()
    expect(row).to_contain_text('"method": "oidc"')
    expect(row).to_contain_text(sso)
    assert AuditEvent.objects.filter(action="auth.break_glass").count() == 1
    shot("sso-audit-signature")


def test_a_replayed_answer_is_refused(page, live_server, sso, shot):  # noqa: F811
    set_claims(sso, "rex-sub", groups=["brand"])
    callbacks: list[str] = []
    page.on(
        "request",
        lambda request: callbacks.append(request.url) if "/sso/callback/" in request.url else None,
    )
    _sso_sign_in(page, live_server, "rex-sub")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.context.clear_cookies()
    page.goto(callbacks[0])
    expect(page.get_by_text(re.compile("State mismatch"))).to_be_visible()
    shot("sso-replayed")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert AuditEvent.objects.filter(action="auth.sso_failed").count() == 1


def test_a_stale_re_authentication_signs_nothing(
    world,  # noqa: F811
    page,
    live_server,
    sso,
    monkeypatch,
):
    set_claims(sso, "rita-sub", groups=["access"])
    _sso_sign_in(page, live_server, "rita-sub")
    page.goto(f"{live_server.url}/reviews/endo/v1/")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Sign version").click()
    later = timezone.now() + dt.timedelta(minutes=6)
    monkeypatch.setattr(signing, "_now", lambda: later)
    _at_provider(page, "rita-sub")
    expect(page.get_by_role("heading", name="Not signed")).to_be_visible()
    expect(page.get_by_text(re.compile("stale"))).to_be_visible()
    assert not Signature.objects.filter(signer__username__startswith="rita").exists()
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1
