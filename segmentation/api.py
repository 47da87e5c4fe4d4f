"""Segment API: field catalog, segments and versions, preview, recompute, members, history.

Each view checks the role for its action, validates input with a serializer and
calls one service or selector. Refusals raise DomainError subclasses, which
``core.api.exception_handler`` turns into ``{"errors": [...]}``.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import action_permission
from core.api import (
    CsvRenderer,
    PaginatedView,
    StandardPagination,
    paginated,
    positive_int_param,
    validated,
)
from core.csv import csv_response
from core.errors import ValidationFailed
from core.time import parse_moment

from . import selectors, services
from .rules import field_catalog
from .serializers import (
    AccountHistoryOut,
    AccountMemberOut,
    BacktestIn,
    HistoryOut,
    MemberOut,
    PreviewIn,
    RecomputeIn,
    SegmentCreateIn,
    SegmentOut,
    SegmentPatchIn,
)
from .tasks import request_recompute


class FieldCatalogView(APIView):
    """GET /fields/: the rule field catalog, for whoever may read and preview rules.

    Field leads read their territories' lists and nothing else (docs/governance.md).
    """

    permission_classes = [IsAuthenticated, action_permission("preview_segment")]

    class Pagination(StandardPagination):
        page_size = 1000  # the catalog is small: one page by default

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        unit = request.query_params.get("unit") or "customer"
        if unit not in ("customer", "account"):
            raise ValidationFailed(
                f"unknown unit '{unit}' (expected customer, account)", path="unit"
            )
        items = [spec.as_dict() for spec in field_catalog(unit)]
        paginator = self.Pagination()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(page)


class SegmentListView(PaginatedView, APIView):
    """GET /segments/ (paginated Segment shapes); POST creates a segment with draft v1."""

    def get_permissions(self):
        action = "edit_segment" if self.request.method == "POST" else "view_segments"
        return [IsAuthenticated(), action_permission(action)()]

    @extend_schema(responses={200: SegmentOut(many=True)})
    def get(self, request):
        return paginated(request, self, selectors.segment_list(), SegmentOut)

    @extend_schema(request=SegmentCreateIn, responses={201: SegmentOut})
    def post(self, request):
        data = validated(SegmentCreateIn, request.data)
        segment = services.segment_create(user=request.user, **data)
        segment = selectors.segment_list().get(pk=segment.pk)
        return Response(SegmentOut(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailView(APIView):
    """GET /segments/{key}/; PATCH edits the draft or opens a new draft version."""

    def get_permissions(self):
        action = "edit_segment" if self.request.method == "PATCH" else "view_segments"
        return [IsAuthenticated(), action_permission(action)()]

    @extend_schema(responses={200: SegmentOut})
    def get(self, request, key: str):
        segment = selectors.segment_get(key=key)
        return Response(SegmentOut(selectors.segment_list().get(pk=segment.pk)).data)

    @extend_schema(request=SegmentPatchIn, responses={200: SegmentOut})
    def patch(self, request, key: str):
        segment = selectors.segment_get(key=key)
        data = validated(SegmentPatchIn, request.data)
        # Fields sent as null mean "none"; DRF keeps them in validated_data.
        services.segment_update(user=request.user, segment=segment, **data)
        return Response(SegmentOut(selectors.segment_list().get(pk=segment.pk)).data)


class PreviewView(APIView):
    """POST /segments/preview/: count, sample and missing-value shares, saving nothing."""

    permission_classes = [IsAuthenticated, action_permission("preview_segment")]

    @extend_schema(request=PreviewIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        data = validated(PreviewIn, request.data)
        preview = services.preview_rule(
            user=request.user,
            entry_rule=data["entry_rule"],
            exit_rule=data.get("exit_rule"),
            as_of=data.get("as_of"),
            parent=data.get("parent"),
            unit=data.get("unit") or "customer",
            rollup=data.get("rollup"),
        )
        return Response(preview.as_dict())


class RecomputeView(APIView):
    """POST /segments/{key}/recompute/: 200 with the result when eager, else 202 with a task id."""

    permission_classes = [IsAuthenticated, action_permission("recompute_segment")]

    @extend_schema(
        request=RecomputeIn,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="the result (eager)"),
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="queued: task_id"),
        },
    )
    def post(self, request, key: str):
        segment = selectors.segment_get(key=key)
        data = validated(RecomputeIn, request.data)
        version = _version_in_body(segment, data.get("version"))
        outcome = request_recompute(version=version, user=request.user, as_of=data.get("as_of"))
        if isinstance(outcome, str):
            return Response({"task_id": outcome}, status=status.HTTP_202_ACCEPTED)
        return Response(outcome.as_dict())


def _version_in_body(segment, number: int | None):
    """The version a body's ``version`` names; default the active version, else the latest."""
    if number is None:
        return selectors.version_for_recompute(segment)
    version = segment.versions.filter(number=number).first()
    if version is None:
        raise ValidationFailed(f"segment '{segment.key}' has no version {number}", path="version")
    return version


class BacktestView(APIView):
    """POST /segments/{key}/backtest/: members a version would have had at a past date.

    Same role as reading the members (``view_members``); writes nothing but the audit event.
    """

    permission_classes = [IsAuthenticated, action_permission("view_members")]

    @extend_schema(request=BacktestIn, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, key: str):
        segment = selectors.segment_get(key=key)
        data = validated(BacktestIn, request.data)
        version = _version_in_body(segment, data.get("version"))
        result = services.backtest_version(user=request.user, version=version, as_of=data["as_of"])
        return Response(result.as_dict())


def _either(name: str, customers, accounts) -> PolymorphicProxySerializer:
    """A list of one of two row shapes: a customer segment's rows (``npi``) or an account
    segment's (``account_id``); the OpenAPI schema says ``oneOf`` them."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[customers, accounts],
        resource_type_field_name=None,
        many=True,
    )


def _version_param(request, segment):
    number = positive_int_param(request, "version")
    if number is not None:
        return selectors.version_get(segment=segment, number=number)
    return selectors.current_version(segment)


class MembersView(PaginatedView, APIView):
    """GET /segments/{key}/members/: members of a version; ``?format=csv`` streams a CSV."""

    permission_classes = [IsAuthenticated, action_permission("view_members")]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("version", int, description="version number (default: current)"),
            OpenApiParameter("territory", str),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: _either("SegmentMember", MemberOut, AccountMemberOut)},
    )
    def get(self, request, key: str):
        segment = selectors.segment_get(key=key)
        version = _version_param(request, segment)
        territory = request.query_params.get("territory") or None
        fmt = request.query_params.get("format")
        if fmt not in (None, "", "json", "api", "csv"):
            raise ValidationFailed(f"unknown format '{fmt}' (expected csv or json)", path="format")
        filename = f"{segment.key}-v{version.number}-members.csv"
        if segment.unit == "account":
            accounts = selectors.account_members_of(version=version, territory=territory)
            if fmt == "csv":
                return self._account_csv(accounts, filename)
            return paginated(request, self, accounts, AccountMemberOut)
        members = selectors.members_of(version=version, territory=territory)
        if fmt == "csv":
            return self._csv(members, filename)
        return paginated(request, self, members, MemberOut)

    def _account_csv(self, members, filename: str) -> StreamingHttpResponse:
        entered = AccountMemberOut().fields["entered_at"]
        rows = (
            [account_id, entered.to_representation(entered_at)]
            for account_id, entered_at in members.values_list(
                "account_id", "entered_as_of"
            ).iterator(chunk_size=5000)
        )
        return csv_response(header=["account_id", "entered_at"], rows=rows, filename=filename)

    def _csv(self, members, filename: str) -> StreamingHttpResponse:
        entered = MemberOut().fields["entered_at"]
        rows = (
            [npi, entered.to_representation(entered_at)]
            for npi, entered_at in members.values_list("customer__npi", "entered_at").iterator(
                chunk_size=5000
            )
        )
        return csv_response(header=["npi", "entered_at"], rows=rows, filename=filename)


class HistoryView(PaginatedView, APIView):
    """GET /segments/{key}/history/: entries and exits; ``?version=``, ``?npi=``, ``?since=``."""

    permission_classes = [IsAuthenticated, action_permission("view_members")]

    @extend_schema(
        parameters=[
            OpenApiParameter("version", int),
            OpenApiParameter("npi", str),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="as_of on or after"),
        ],
        responses={200: _either("SegmentHistoryRow", HistoryOut, AccountHistoryOut)},
    )
    def get(self, request, key: str):
        segment = selectors.segment_get(key=key)
        number = positive_int_param(request, "version")
        version = selectors.version_get(segment=segment, number=number) if number else None
        raw_since = request.query_params.get("since")
        since = parse_moment(raw_since, path="since") if raw_since else None
        if segment.unit == "account":
            rows = selectors.account_history_of(
                segment=segment,
                version=version,
                account_id=request.query_params.get("account_id") or None,
                since=since,
            )
            return paginated(request, self, rows, AccountHistoryOut)
        history = selectors.history_of(
            segment=segment,
            version=version,
            npi=request.query_params.get("npi") or None,
            since=since,
        )
        return paginated(request, self, history, HistoryOut)
