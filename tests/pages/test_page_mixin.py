"""The page mixin for class-based views: login, role check, DomainError -> error page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

from accounts.mixins import PagePermissionMixin
from core.errors import Conflict


class AuditPage(PagePermissionMixin, View):
    permission_action = "view_audit"

    def get(self, request):
        if request.GET.get("refuse"):
            raise Conflict("version is in review", path="state")
        return HttpResponse("ok")


def _get(user, query=""):
    request = RequestFactory().get(f"/x/{query}")
    request.user = user
    return AuditPage.as_view()(request)


def test_anonymous_is_redirected_to_login():
    response = _get(AnonymousUser())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_role_outside_the_table_is_refused(make_user):
    with pytest.raises(PermissionDenied):
        _get(make_user("brand"))


def test_allowed_role_sees_the_page(make_user):
    assert _get(make_user("compliance")).content == b"ok"


def test_domain_error_becomes_an_error_page_with_its_status(make_user):
    response = _get(make_user("compliance"), "?refuse=1")
    assert response.status_code == 400
    assert "version is in review" in response.content.decode()
