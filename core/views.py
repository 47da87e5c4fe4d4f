"""Plumbing pages with no domain: the site icon, and the error answers Django gives itself.

Django answers some requests before any view runs: a path that matches no
route (404), a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` or too many form
fields (400), an unexpected error (500). Under ``/api/`` these answer with the
one error shape of docs/api.md, like every refusal a view makes; pages keep
Django's templates.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

API_PREFIX = "/api/"


@cache
def _icon() -> bytes:
    return (settings.BASE_DIR / "static" / "favicon.svg").read_bytes()


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """The site icon (SVG) at the address every browser asks for, so it is never a 404."""
    return HttpResponse(_icon(), content_type="image/svg+xml")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": [{"path": "", "message": message}]}, status=status)


def _bad_request_message(exception) -> str:
    # The exception's own text names settings; say what the client can change.
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return f"the request body is larger than {limit} bytes (files excepted)"
    if isinstance(exception, TooManyFieldsSent):
        return f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields"
    if isinstance(exception, TooManyFilesSent):
        return f"the request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files"
    return "the request is malformed"


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """``handler400``: oversized or malformed requests Django refuses before a view runs."""
    if _is_api(request):
        return _error(_bad_request_message(exception), 400)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """``handler404``: a path under /api/ that matches no endpoint (or a malformed id in it)."""
    if _is_api(request):
        return _error(f"no endpoint at {request.path}", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: never meant to happen on bad input; the API still keeps its shape."""
    if _is_api(request):
        return _error("the server failed to answer; the error is logged", 500)
    return defaults.server_error(request)


@require_GET
def help_page(request: HttpRequest, slug: str = "index") -> HttpResponse:
    """A help guide (core/guides/), for anyone signed in."""
    from django.contrib.auth.views import redirect_to_login  # noqa: PLC0415
    from django.http import Http404  # noqa: PLC0415
    from django.shortcuts import render  # noqa: PLC0415

    from .help import GUIDES, render_guide  # noqa: PLC0415

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    guide = render_guide(slug)
    if guide is None:
        raise Http404("No such guide")
    title, body = guide
    guides = [(s, t) for s, t in GUIDES.items() if s != "index"]
    return render(
        request,
        "help/guide.html",
        {"title": title, "body": body, "slug": slug, "guides": guides},
    )
