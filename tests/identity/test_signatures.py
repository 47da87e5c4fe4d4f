"""Signatures under single sign-on: re-authentication at the provider, bound to the signing
request by its nonce, same user, within 5 minutes (docs/identity.md, "Signatures")."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts import signing
from accounts.models import OidcIdentity, SigningRequest
from audit.models import AuditEvent
from content.models import ContentAsset
from governance.models import Signature
from tests.identity.provider import local_path, provider_answer, set_claims
from tests.pages.conftest import PASSWORD, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def _review_url(version) -> str:
    return f"/reviews/{version.segment.key}/v{version.number}/"


def _sign_form(version, team="access", decision="approve", comment="Fine by access."):
    return {"team": team, "decision": decision, "comment": comment}


@pytest.fixture
def reviewer(client, sign_in, sso):
    """An SSO user of the access team, signed in through the provider."""
    sign_in("rita-sub", name="Rita Reviewer", groups=["access"])
    return OidcIdentity.objects.get(subject="rita-sub").user


def _start(client, url, data):
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def test_a_reviewer_signs_a_version_by_re_authenticating(client, world, reviewer, sso):  # noqa: F811
    version = world.in_review
    authorize = _start(client, _review_url(version), _sign_form(version))
    assert authorize.startswith(sso)
    query = parse_qs(urlsplit(authorize).query)
    pending = SigningRequest.objects.get(user=reviewer)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    assert query["nonce"] == [pending.nonce] and query["state"] == [pending.state]
    assert query["code_challenge_method"] == ["S256"]
    assert not Signature.objects.filter(signer=reviewer).exists()

    done = client.get(local_path(provider_answer(authorize, "rita-sub")))
    assert done.status_code == 302 and done["Location"] == _review_url(version)
    signature = Signature.objects.get(signer=reviewer)
    assert (signature.team, signature.decision) == ("access", "approve")
    assert signature.method == "oidc" and signature.issuer == sso
    assert signature.content_hash == version.content_hash
    assert signature.signer_name == "Rita Reviewer"
    event = AuditEvent.objects.get(action="segment.signed", actor=reviewer)
    assert event.after["method"] == "oidc" and event.after["issuer"] == sso
    page = client.get(_review_url(version))
    assert b"re-authentication at your identity provider" in page.content
    pending.refresh_from_db()
    assert pending.outcome == "signed"


def test_the_review_page_asks_an_sso_signer_for_no_password(client, world, reviewer):  # noqa: F811
    page = client.get(_review_url(world.in_review))
    assert b'data-testid="reauth-note"' in page.content
    assert b'name="password"' not in page.content


def _assert_failed_attempt(reviewer, code: str):
    assert not Signature.objects.filter(signer=reviewer).exists()
    event = AuditEvent.objects.filter(action="signature.failed", actor=reviewer).last()
    assert event is not None, "no failed signature attempt recorded"
    assert event.after["method"] == "oidc"
    return event


def test_re_authenticating_as_someone_else_signs_nothing(client, world, reviewer, sso):  # noqa: F811
    set_claims(sso, "someone-else", groups=["access"])
    authorize = _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    page = client.get(local_path(provider_answer(authorize, "someone-else")))
    assert page.status_code == 400 and b'data-failure="other_user"' in page.content
    _assert_failed_attempt(reviewer, "other_user")


def test_a_cancelled_re_authentication_is_a_failed_attempt(client, world, reviewer):  # noqa: F811
    authorize = _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    page = client.get(local_path(provider_answer(authorize, None, deny=True)))
    assert page.status_code == 400 and b"Nothing was signed" in page.content
    _assert_failed_attempt(reviewer, "cancelled")
    assert SigningRequest.objects.get(user=reviewer).outcome == "abandoned"


def test_a_stale_re_authentication_is_refused(client, world, reviewer, monkeypatch):  # noqa: F811
    authorize = _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    callback = local_path(provider_answer(authorize, "rita-sub"))
    later = timezone.now() + dt.timedelta(minutes=6)
    monkeypatch.setattr(signing, "_now", lambda: later)
    page = client.get(callback)
    assert page.status_code == 400 and b'data-failure="stale"' in page.content
    _assert_failed_attempt(reviewer, "stale")


def test_a_replayed_answer_signs_nothing_more(client, world, reviewer):  # noqa: F811
    authorize = _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    callback = local_path(provider_answer(authorize, "rita-sub"))
    assert client.get(callback).status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400 and b'data-failure="replayed"' in replay.content
    assert Signature.objects.filter(signer=reviewer).count() == 1
    assert AuditEvent.objects.filter(action="signature.failed", actor=reviewer).exists()


def test_a_nonce_that_is_not_the_signing_requests_is_refused(client, world, reviewer):  # noqa: F811
    authorize = _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    callback = local_path(provider_answer(authorize, "rita-sub"))
    session = client.session
    key = next(k for k in session.keys() if k.startswith("_state_sso_"))
    session[key]["data"]["nonce"] = "a-nonce-of-another-request"
    session.save()
    page = client.get(callback)
    assert page.status_code == 400 and b'data-failure="nonce_mismatch"' in page.content
    _assert_failed_attempt(reviewer, "nonce_mismatch")


def test_an_abandoned_re_authentication_is_recorded_as_a_failed_attempt(
    client,
    world,  # noqa: F811
    reviewer,
):
    _start(client, _review_url(world.in_review), _sign_form(world.in_review))
    SigningRequest.objects.update(created_at=timezone.now() - dt.timedelta(minutes=6))
    assert signing.close_abandoned() == 1
    event = _assert_failed_attempt(reviewer, "abandoned")
    assert "abandoned" in event.reason
    assert SigningRequest.objects.get().outcome == "abandoned"


def test_an_sso_brand_user_cannot_sign_for_another_team(client, sign_in, world):  # noqa: F811
    sign_in("bert-sub", groups=["brand"])
    response = client.post(_review_url(world.in_review), _sign_form(world.in_review))
    assert response.status_code == 403
    assert b"only a user holding the access role" in response.content
    assert not SigningRequest.objects.exists()


def test_the_api_answers_400_for_an_sso_signer(client, world, reviewer):  # noqa: F811
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=reviewer)
    api = Client()
    response = api.post(
        f"/api/v1/segments/{world.in_review.segment.key}/signatures/",
        {"team": "access", "decision": "approve", "comment": "", "password": "anything"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 400
    assert "single sign-on" in response.json()["errors"][0]["message"]
    assert not Signature.objects.filter(signer=reviewer).exists()
    assert not AuditEvent.objects.filter(action="signature.failed").exists()


def test_local_accounts_still_sign_with_a_password(world):  # noqa: F811
    signature = Signature.objects.filter(version=world.active).first()
    assert signature.method == "password" and signature.issuer == ""


def test_compliance_records_an_mlr_status_by_re_authenticating(client, sign_in, world, sso):  # noqa: F811
    sign_in("cleo-sub", groups=["compliance"])
    user = OidcIdentity.objects.get(subject="cleo-sub").user
    ContentAsset.objects.filter(pk=world.asset.pk).update(mlr_status="in_review")
    authorize = _start(
        client, f"/content/{world.asset.code}/status/", {"status": "approved", "reason": ""}
    )
    done = client.get(local_path(provider_answer(authorize, "cleo-sub")))
    assert done.status_code == 302
    asset = ContentAsset.objects.get(pk=world.asset.pk)
    assert asset.mlr_status == "approved"
    assert (asset.mlr_signature_method, asset.mlr_signature_issuer) == ("oidc", sso)
    event = AuditEvent.objects.get(action="asset.approved", actor=user)
    assert event.after["mlr_signature_method"] == "oidc"


def test_compliance_decides_a_mapping_by_re_authenticating(client, sign_in, world, sso):  # noqa: F811
    sign_in("cleo-sub", groups=["compliance"])
    authorize = _start(
        client,
        f"/mappings/{world.mapping.pk}/",
        {"decision": "approve", "comment": "On label."},
    )
    client.get(local_path(provider_answer(authorize, "cleo-sub")))
    world.mapping.refresh_from_db()
    assert world.mapping.state == "approved"
    assert (world.mapping.signature_method, world.mapping.signature_issuer) == ("oidc", sso)


def test_a_wrong_password_for_a_local_account_is_unchanged(client, world):  # noqa: F811
    client.force_login(world.users.access)
    response = client.post(
        _review_url(world.in_review), {**_sign_form(world.in_review), "password": "wrong"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="signature.failed").exists()
    assert PASSWORD
