"""Audit API: the filtered event list, as JSON pages or a CSV download (compliance, admin)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from core.api import CsvRenderer, paginated

from . import selectors
from .exports import audit_csv
from .serializers import AuditEventSerializer


class AuditView(APIView):
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
        qs = selectors.audit_events(
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
