"""Plumbing pages with no domain: the site icon browsers ask for at ``/favicon.ico``."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@cache
def _icon() -> bytes:
    return (settings.BASE_DIR / "static" / "favicon.svg").read_bytes()


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """The site icon (SVG) at the address every browser asks for, so it is never a 404."""
    return HttpResponse(_icon(), content_type="image/svg+xml")
