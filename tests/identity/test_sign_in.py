"""Sign-in through a real OpenID Connect provider (docs/identity.md, "Sign-in")."""

from __future__ import annotations

import pytest

from accounts.models import OidcIdentity, User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_login_page_offers_sso_when_configured(client, sso):
    page = client.get("/accounts/login/")
    assert b"Sign in with SSO" in page.content


def test_login_page_is_local_when_sso_is_off(client, settings):
    settings.OIDC_ISSUER = ""
    page = client.get("/accounts/login/")
    assert b"Sign in with SSO" not in page.content
    assert client.get("/accounts/sso/login/").status_code == 404


def test_sign_in_asks_for_a_code_with_pkce_state_and_nonce(client, sso):
    from urllib.parse import parse_qs, urlsplit

    start = client.get("/accounts/sso/login/")
    assert start.status_code == 302 and start["Location"].startswith(sso)
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["segmentation-governance"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert "openid" in query["scope"][0].split()
    assert query["state"][0] and query["nonce"][0]
    assert "prompt" not in query  # a sign-in; only a signature asks for prompt=login


def test_first_sign_in_creates_the_user_with_roles_from_groups(client, sign_in, sso):
    response = sign_in(
        "alice-sub", name="Alice Able", email="alice@example.com", groups=["brand", "it-staff"]
    )
    assert response.status_code == 302
    identity = OidcIdentity.objects.get(issuer=sso, subject="alice-sub")
    user = identity.user
    assert user.full_name == "Alice Able"
    assert user.email == "alice@example.com"
    assert user.role_names == {"brand"}
    assert not user.has_usable_password()
    assert client.get("/segments/").status_code == 200
    event = AuditEvent.objects.get(action="auth.sso_signed_in")
    assert event.after["issuer"] == sso and event.after["roles"] == ["brand"]
    change = AuditEvent.objects.get(action="user.roles_changed", object_id=user.username)
    assert change.before["roles"] == [] and change.after["roles"] == ["brand"]


def test_roles_and_territories_are_replaced_at_every_sign_in(client, sign_in, sso):
    sign_in("carol-sub", name="Carol", groups=["compliance", "field_lead"], territories=["NE-BOS"])
    user = OidcIdentity.objects.get(subject="carol-sub").user
    assert user.role_names == {"compliance", "field_lead"}
    assert sorted(user.territories.values_list("code", flat=True)) == ["NE-BOS"]
    client.logout()
    sign_in("carol-sub", name="Carol", groups=["medical"], territories=[])
    user = User.objects.get(pk=user.pk)
    assert user.role_names == {"medical"}
    assert not user.territories.exists()
    change = AuditEvent.objects.filter(action="user.roles_changed", object_id=user.username).last()
    assert change.before == {"roles": ["compliance", "field_lead"], "territories": ["NE-BOS"]}
    assert change.after == {"roles": ["medical"], "territories": []}
    assert change.actor_id == user.pk


def test_a_local_account_of_the_same_name_is_never_taken_over(client, sign_in, make_user):
    local = make_user("admin", username="dave")
    sign_in("dave-sub", preferred_username="dave", groups=["brand"])
    sso_user = OidcIdentity.objects.get(subject="dave-sub").user
    assert sso_user.pk != local.pk and sso_user.username.startswith("dave-")


def test_a_user_without_a_known_role_is_refused_and_loses_sessions_and_tokens(client, sign_in, sso):
    from django.test import Client
    from knox.models import AuthToken

    sign_in("erin-sub", groups=["brand"])
    user = OidcIdentity.objects.get(subject="erin-sub").user
    AuthToken.objects.create(user=user)
    other_browser = Client()
    sign_in("erin-sub", client=other_browser)
    assert other_browser.get("/segments/").status_code == 200

    refused = sign_in("erin-sub", client=Client(), groups=["it-staff"])
    assert refused.status_code == 403
    assert b"carries no role of this product" in refused.content
    assert b"it-staff" in refused.content
    assert "_auth_user_id" not in refused.wsgi_request.session
    user = User.objects.get(pk=user.pk)
    assert user.role_names == frozenset()
    assert not AuthToken.objects.filter(user=user).exists()
    # The session of the earlier sign-in is over too.
    assert other_browser.get("/segments/").status_code == 302
    failed = AuditEvent.objects.get(action="auth.sso_failed")
    assert failed.after["failure"] == "no_role"


def test_a_first_sign_in_without_a_role_creates_nobody(sign_in):
    response = sign_in("frank-sub", groups=[])
    assert response.status_code == 403
    assert not OidcIdentity.objects.filter(subject="frank-sub").exists()


def test_a_deactivated_user_is_refused_and_loses_tokens(client, sign_in):
    from django.test import Client
    from knox.models import AuthToken

    sign_in("gina-sub", groups=["brand"])
    user = OidcIdentity.objects.get(subject="gina-sub").user
    _, token = AuthToken.objects.create(user=user)
    user.is_active = False
    user.save()
    assert not AuthToken.objects.filter(user=user).exists()
    assert client.get("/segments/").status_code == 302
    refused = sign_in("gina-sub", client=Client(), groups=["brand"])
    assert refused.status_code == 400
    assert b"deactivated" in refused.content
    api = Client().get("/api/v1/segments/", HTTP_AUTHORIZATION=f"Token {token}")
    assert api.status_code == 401


def test_the_admin_shows_an_sso_users_identity(client, sign_in, sso, make_user):
    sign_in("ivy-sub", groups=["brand"])
    user = OidcIdentity.objects.get(subject="ivy-sub").user
    admin = make_user("admin", username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b"ivy-sub" in page.content and sso.encode() in page.content
