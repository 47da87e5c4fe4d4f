"""Page access: one decorator and one mixin for every server-rendered page.

Both ask ``accounts.permissions.allowed`` (the same table services use), send an
anonymous visitor to the login page, answer 403 for a role outside the table,
and turn a ``DomainError`` a service raised into an error page with the
error's status (400/403/404), so no page needs its own try/except for refusals.
Views with forms catch ``DomainError`` themselves to show the messages inline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import DomainError

from .permissions import allowed


def domain_error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Render a refused action: a fragment for htmx, a full page otherwise."""
    template = "partials/errors.html" if getattr(request, "htmx", False) else "domain_error.html"
    return render(request, template, {"errors": exc.errors}, status=exc.status)


def check_page_access(request: HttpRequest, action: str) -> HttpResponse | None:
    """None when the user may see the page; otherwise the redirect-to-login answer.

    Raises PermissionDenied (Django renders templates/403.html) for a signed-in
    user whose roles do not allow ``action``.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed(request.user, action):
        raise PermissionDenied(f"Your roles do not allow this page ({action}).")
    return None


def page_permission(action: str) -> Callable:
    """Decorator for function views: login, role check for ``action``, DomainError -> page."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            refused = check_page_access(request, action)
            if refused is not None:
                return refused
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return domain_error_response(request, exc)

        return wrapped

    return decorator


class PagePermissionMixin:
    """Class-based twin of ``page_permission``: set ``permission_action`` on the view."""

    permission_action: str = ""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = check_page_access(request, self.permission_action)
        if refused is not None:
            return refused
        try:
            return super().dispatch(request, *args, **kwargs)
        except DomainError as exc:
            return domain_error_response(request, exc)


def sorted_page(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    sorts: Iterable[str],
    default: str,
    per_page: int = 25,
    then: dict[str, tuple[str, ...]] | None = None,
) -> tuple[Page, str]:
    """Apply a whitelisted ``?sort=`` (``-`` prefix for descending) and ``?page=``.

    Unknown sort keys fall back to ``default`` so a hand-edited URL never errors.
    ``then`` names tie-breakers per sort key (``{"last_name": ("first_name", "npi")}``),
    applied in the same direction.
    """
    allowed_sorts = set(sorts)
    sort = request.GET.get("sort", default)
    if sort.lstrip("-") not in allowed_sorts:
        sort = default
    sign = "-" if sort.startswith("-") else ""
    ties = [sign + t for t in (then or {}).get(sort.lstrip("-"), ())]
    paginator = Paginator(queryset.order_by(sort, *ties, "pk"), per_page)
    return paginator.get_page(request.GET.get("page")), sort
