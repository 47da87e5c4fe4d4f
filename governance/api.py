"""HTTP API for sign-off (submit, sign, activate, retire) and the audit trail."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from audit import selectors as audit_selectors
from audit.exports import audit_csv
from audit.serializers import AuditEventSerializer
from core.api import CsvRenderer, PaginatedView, paginated, validated
from segmentation.models import VersionState
from segmentation.selectors import segment_get

from . import services
from .serializers import (
    RetireInputSerializer,
    SignatureInputSerializer,
    SignatureSerializer,
    VersionStateSerializer,
)


class SubmitView(APIView):
    """Submit the segment's draft for review (a fresh size preview is computed)."""

    required_actions = {"POST": "submit_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=VersionStateSerializer)
    def post(self, request, key: str):
        version = services.version_for_action(
            segment=segment_get(key=key), state=VersionState.DRAFT
        )
        version = services.submit_version(user=request.user, version=version)
        return Response(VersionStateSerializer(version).data)


class SignatureView(APIView):
    """Sign the segment's version in review for a team, re-entering the password.

    A wrong password answers 403 ``password does not match``, signs nothing and
    leaves a ``signature.failed`` audit event.
    """

    required_actions = {"POST": "sign_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=SignatureInputSerializer, responses={201: SignatureSerializer})
    def post(self, request, key: str):
        data = validated(SignatureInputSerializer, request.data)
        version = services.version_for_action(
            segment=segment_get(key=key), state=VersionState.IN_REVIEW
        )
        signature = services.sign_version(
            user=request.user,
            version=version,
            team=data["team"],
            decision=data["decision"],
            comment=data["comment"],
            password=data["password"],
        )
        body = SignatureSerializer(signature).data
        body["version_state"] = signature.version.state
        return Response(body, status=201)


class ActivateView(APIView):
    required_actions = {"POST": "activate_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=VersionStateSerializer)
    def post(self, request, key: str):
        version = services.version_for_action(
            segment=segment_get(key=key), state=VersionState.APPROVED
        )
        version = services.activate_version(user=request.user, version=version)
        return Response(VersionStateSerializer(version).data)


class RetireView(APIView):
    required_actions = {"POST": "retire_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=RetireInputSerializer, responses=VersionStateSerializer)
    def post(self, request, key: str):
        data = validated(RetireInputSerializer, request.data or {})
        version = services.version_for_action(
            segment=segment_get(key=key), state=VersionState.ACTIVE
        )
        version = services.retire_version(user=request.user, version=version, reason=data["reason"])
        return Response(VersionStateSerializer(version).data)


class AuditView(PaginatedView, APIView):
    """Audit events (compliance, admin), filtered; ``?format=csv`` streams every match."""

    required_actions = {"GET": "view_audit"}
    permission_classes = [ActionPermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("object", str, description="type:id, or an object id of any type"),
            OpenApiParameter("since", str, description="ISO date or date-time (inclusive)"),
            OpenApiParameter("until", str, description="ISO date or date-time (exclusive)"),
            OpenApiParameter("action", str, description="exact, or a prefix ending with '.'"),
            OpenApiParameter("actor", str, description="username"),
            OpenApiParameter("object_type", str),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        qs = audit_selectors.audit_events(
            object=params.get("object"),
            since=params.get("since"),
            until=params.get("until"),
            action=params.get("action"),
            actor=params.get("actor"),
            object_type=params.get("object_type"),
        )
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return audit_csv(qs)
        return paginated(request, self, qs, AuditEventSerializer)
