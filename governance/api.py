"""HTTP API for sign-off (submit, sign, activate, retire), the audit trail and field views."""

from __future__ import annotations

import csv
import json

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from config.api import StandardPagination
from config.errors import NotFound
from segmentation.models import Segment, VersionState

from . import selectors, services
from .serializers import (
    AuditEventSerializer,
    FieldSegmentSerializer,
    RetireInputSerializer,
    SignatureInputSerializer,
    SignatureSerializer,
    VersionStateSerializer,
)


def _segment(key: str) -> Segment:
    segment = Segment.objects.filter(key=key).first()
    if segment is None:
        raise NotFound(f"no segment {key}")
    return segment


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class SubmitView(APIView):
    """Submit the segment's draft for review (a fresh size preview is computed)."""

    required_actions = {"POST": "submit_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=VersionStateSerializer)
    def post(self, request, key: str):
        version = services.version_for_action(segment=_segment(key), state=VersionState.DRAFT)
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
        data = _valid(SignatureInputSerializer, request.data)
        version = services.version_for_action(segment=_segment(key), state=VersionState.IN_REVIEW)
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
        version = services.version_for_action(segment=_segment(key), state=VersionState.APPROVED)
        version = services.activate_version(user=request.user, version=version)
        return Response(VersionStateSerializer(version).data)


class RetireView(APIView):
    required_actions = {"POST": "retire_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(request=RetireInputSerializer, responses=VersionStateSerializer)
    def post(self, request, key: str):
        data = _valid(RetireInputSerializer, request.data or {})
        version = services.version_for_action(segment=_segment(key), state=VersionState.ACTIVE)
        version = services.retire_version(user=request.user, version=version, reason=data["reason"])
        return Response(VersionStateSerializer(version).data)


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` pass DRF's content negotiation; the view streams the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, (bytes, str)) else json.dumps(data)


class _Echo:
    def write(self, value):
        return value


AUDIT_COLUMNS = [
    "id",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
]


class AuditView(APIView):
    """Audit events (compliance, admin), filtered; ``?format=csv`` streams every match."""

    required_actions = {"GET": "view_audit"}
    permission_classes = [ActionPermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

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
        qs = selectors.audit_events(
            object=params.get("object"),
            since=params.get("since"),
            until=params.get("until"),
            action=params.get("action"),
            actor=params.get("actor"),
            object_type=params.get("object_type"),
        )
        if getattr(request.accepted_renderer, "format", None) == "csv":
            return self._csv(qs)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AuditEventSerializer(page, many=True).data)

    def _csv(self, qs) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(AUDIT_COLUMNS)
            for e in qs.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        e.id,
                        e.occurred_at.isoformat().replace("+00:00", "Z"),
                        e.actor_username,
                        e.action,
                        e.object_type,
                        e.object_id,
                        json.dumps(e.before, sort_keys=True) if e.before is not None else "",
                        json.dumps(e.after, sort_keys=True) if e.after is not None else "",
                        e.reason,
                        e.prev_hash,
                        e.hash,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response


class TerritorySegmentsView(APIView):
    """A field lead's view: active segments with member counts in the territory and live content."""

    required_actions = {"GET": "view_territories"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=FieldSegmentSerializer(many=True))
    def get(self, request, code: str):
        from content.services import expire_due_assets

        territory = selectors.territory_for_user(user=request.user, code=code)
        expire_due_assets()
        rows = selectors.territory_segments(territory_code=territory.code)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        response = paginator.get_paginated_response(FieldSegmentSerializer(page, many=True).data)
        response.data["territory"] = territory.code
        return response
