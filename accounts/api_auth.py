"""API tokens (docs/api.md, "Authentication"; docs/governance.md, "Integrity and access controls").

``POST /api/v1/auth/token/`` exchanges a username and password for a token
(django-rest-knox: stored hashed, expiring after ``API_TOKEN_TTL_HOURS``); send
it as ``Authorization: Token <token>``. ``POST /api/v1/auth/logout/`` revokes
the token it is sent with, ``/api/v1/auth/logout-all/`` every token of the
user; a password change or deactivation revokes them all (accounts.receivers).
Failed attempts count towards the lockout (django-axes) and are audited; the
view is throttled (scope ``auth``).
"""

from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from knox.models import AuthToken
from knox.views import LogoutAllView, LogoutView
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.errors import PermissionRefused, ValidationFailed

from .receivers import client_address
from .sso import is_break_glass, local_sign_in_allowed, record_break_glass


class AccountLocked(PermissionRefused):
    """Too many failed passwords: refused until the cool-off ends (403)."""

    code = "locked"


def lockout_response(request, *args, **kwargs) -> HttpResponse:
    """django-axes' answer to a locked-out attempt (AXES_LOCKOUT_CALLABLE).

    The API answers 403 with the error shape of docs/api.md; the login page a
    short plain-text 429.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"too many failed passwords: locked for {minutes} minutes"
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": [{"path": "", "message": message}]}, status=403)
    return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class ObtainTokenView(APIView):
    """Answer ``{"token"}`` for valid credentials; 400 with the error shape otherwise."""

    authentication_classes: list = []  # credentials are in the body; no session/CSRF
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: TokenOutputSerializer, 400: OpenApiResponse(description="errors")},
    )
    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = authenticate(
                request._request,
                username=serializer.validated_data["username"],
                password=serializer.validated_data["password"],
            )
        except AxesBackendPermissionDenied:
            raise AccountLocked(
                "too many failed attempts: the account is locked for a while", path=""
            ) from None
        if getattr(request._request, "axes_locked_out", False):
            raise AccountLocked("too many failed attempts: the account is locked for a while")
        if user is None or not user.is_active:
            raise ValidationFailed("unable to log in with the given username and password", path="")
        if not local_sign_in_allowed(user):
            raise PermissionRefused(
                "local sign-in is off: sign in with SSO in the browser and create a token there",
                path="",
            )
        if is_break_glass(user):
            record_break_glass(user=user, via="API token", address=client_address(request))
        _, token = AuthToken.objects.create(user=user)
        return Response({"token": token})


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class RevokeTokenView(LogoutView):
    """Revoke the token this request is authenticated with (204)."""


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class RevokeAllTokensView(LogoutAllView):
    """Revoke every token of the requesting user (204)."""
