"""Sign-in and sign-out pages, and the home page that sends each role to its first page."""

from __future__ import annotations

import math

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework.throttling import ScopedRateThrottle

from .permissions import allowed

# First page each user lands on, in order of preference.
HOME_PAGES = (
    ("view_dashboard", "segmentation:dashboard"),
    ("view_inbox", "governance:inbox_page"),
    ("view_segments", "segmentation:segment_list"),
    ("view_assets", "content:asset_list"),
    ("view_territories", "field:territory_list"),
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
