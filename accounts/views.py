"""Sign-in and sign-out pages, single sign-on, and the home page that sends each role to its
first page."""

from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from knox.models import AuthToken
from rest_framework.throttling import ScopedRateThrottle

from audit.services import record_event
from core.errors import DomainError

from . import oidc, signing, sso
from .permissions import allowed
from .receivers import client_address

# First page each user lands on, in order of preference.
HOME_PAGES = (
    ("view_dashboard", "segmentation:dashboard"),
    ("view_inbox", "governance:inbox_page"),
    ("view_segments", "segmentation:segment_list"),
    ("view_assets", "content:asset_list"),
    ("view_territories", "field:territory_list"),
)
SSO_NEXT = "sso_next"


class LocalAuthenticationForm(AuthenticationForm):
    """Django's form plus the ``LOCAL_LOGIN`` rule (docs/identity.md)."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not sso.local_sign_in_allowed(user):
            raise forms.ValidationError(
                "Local sign-in is off: sign in with SSO.", code="local_login_off"
            )


class LoginView(auth_views.LoginView):
    """The sign-in page. Password attempts share the token endpoint's per-address rate
    (``THROTTLE_AUTH``, one count for both): beyond it, a plain 429 until the window passes.
    django-axes still locks an account after repeated failures, whatever the address."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    throttle_scope = "auth"

    def post(self, request, *args, **kwargs):
        throttle = ScopedRateThrottle()
        if not throttle.allow_request(request, self):
            wait = max(1, math.ceil(throttle.wait() or 1))
            return HttpResponse(
                f"Too many sign-in attempts from your address: try again in {wait} seconds.",
                status=429,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(wait)},
            )
        return super().post(request, *args, **kwargs)

    authentication_form = LocalAuthenticationForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = oidc.sso_enabled()
        context["local_login"] = settings.LOCAL_LOGIN
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign someone out behind their back."""


def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the first page their roles allow."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    for action, url_name in HOME_PAGES:
        if allowed(request.user, action):
            return redirect(url_name)
    return redirect("accounts:no_pages")


def no_pages(request: HttpRequest) -> HttpResponse:
    """A signed-in user without any role that opens a page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return render(request, "accounts/no_pages.html", status=403)


def sso_callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:sso_callback"))


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/"


def sso_failed_page(request: HttpRequest, failure: oidc.SsoFailure, *, title: str) -> HttpResponse:
    status = 502 if failure.code == "provider_down" else 400
    return render(
        request,
        "accounts/sso_failed.html",
        {"title": title, "reason": failure.reason, "code": failure.code},
        status=status,
    )


def sso_login(request: HttpRequest) -> HttpResponse:
    """ "Sign in with SSO": the authorization request (code flow, PKCE, state, nonce)."""
    if not oidc.sso_enabled():
        raise Http404("single sign-on is off")
    request.session[SSO_NEXT] = _safe_next(request, request.GET.get("next", ""))
    try:
        return oidc.redirect_to_provider(request, redirect_uri=sso_callback_uri(request))
    except oidc.SsoFailure as failure:
        sso.record_sso_failure(
            reason=failure.reason, code=failure.code, address=client_address(request)
        )
        return sso_failed_page(request, failure, title="Single sign-on failed")


def sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: a sign-in, or the re-authentication of a signature."""
    if not oidc.sso_enabled():
        raise Http404("single sign-on is off")
    pending = signing.pending_request(request)
    if pending is not None:
        return signing.complete_signing_request(request, pending)
    address = client_address(request)
    try:
        login = oidc.complete(request)
    except oidc.SsoFailure as failure:
        sso.record_sso_failure(reason=failure.reason, code=failure.code, address=address)
        auth_logout(request)
        return sso_failed_page(request, failure, title="Single sign-on failed")
    try:
        user = sso.sso_sign_in(login=login, address=address)
    except sso.NoKnownRole as exc:
        sso.record_sso_failure(
            reason=str(exc.errors[0].message),
            code="no_role",
            issuer=login.issuer,
            subject=login.subject,
            address=address,
        )
        auth_logout(request)
        return render(
            request,
            "accounts/sso_no_role.html",
            {"claimed": exc.claimed, "claim": settings.OIDC_ROLES_CLAIM},
            status=403,
        )
    except DomainError as exc:
        failure = oidc.SsoFailure(exc.errors[0].message, code=exc.code)
        sso.record_sso_failure(
            reason=failure.reason,
            code=failure.code,
            issuer=login.issuer,
            subject=login.subject,
            address=address,
        )
        auth_logout(request)
        return sso_failed_page(request, failure, title="Single sign-on refused")
    next_url = request.session.pop(SSO_NEXT, "/")
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_safe_next(request, next_url))


def api_token(request: HttpRequest) -> HttpResponse:
    """Create an API token for scripts (the only way for an SSO account, which has no
    password for ``POST /api/v1/auth/token/``). Shown once; it expires like any token."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    token = None
    if request.method == "POST":
        _, token = AuthToken.objects.create(user=request.user)
        record_event(
            actor=request.user,
            action="auth.token_created",
            object_type="user",
            object_id=request.user.username,
            after={"via": "page"},
        )
    return render(request, "accounts/api_token.html", {"token": token})
