"""HTTP API for content assets and content-to-segment mappings.

Each view checks the role (ActionPermission), validates the request's shape and
calls one service; the rules live in ``content.services``. Reads first expire
any approved asset past its date (``expire_due_assets``), so nothing expired is
served between runs of the beat job.
"""

from __future__ import annotations

import mimetypes

from django.http import HttpResponse, QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from core.api import PaginatedView, paginated, validated
from core.errors import NotFound, ValidationFailed
from segmentation.models import Segment

from . import selectors, services
from .models import ContentAsset, ContentMapping
from .serializers import (
    AssetInputSerializer,
    AssetSerializer,
    AssetStatusInputSerializer,
    MappingDecisionInputSerializer,
    MappingInputSerializer,
    MappingSerializer,
)

LIST_FIELDS = ("indications", "channels")


def _plain(data) -> dict:
    """Request data as a plain dict; multipart lists come from repeated fields."""
    if isinstance(data, QueryDict):
        out = {}
        for key in data:
            out[key] = data.getlist(key) if key in LIST_FIELDS else data.get(key)
        return out
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", path="")
    return dict(data)


class AssetListView(PaginatedView, APIView):
    required_actions = {"GET": "view_assets", "POST": "create_asset"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=AssetSerializer(many=True))
    def get(self, request):
        services.expire_due_assets()
        qs = selectors.asset_list(
            status=request.query_params.get("status"),
            audience=request.query_params.get("audience"),
        )
        return paginated(request, self, qs, AssetSerializer)

    @extend_schema(request=AssetInputSerializer, responses={201: AssetSerializer})
    def post(self, request):
        asset = services.create_asset(user=request.user, data=_plain(request.data))
        return Response(AssetSerializer(asset).data, status=201)


class AssetDetailView(APIView):
    required_actions = {"GET": "view_assets", "PATCH": "edit_asset"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=AssetSerializer)
    def get(self, request, code: str):
        services.expire_due_assets()
        return Response(AssetSerializer(selectors.asset_get(code=code)).data)

    @extend_schema(request=AssetInputSerializer(partial=True), responses=AssetSerializer)
    def patch(self, request, code: str):
        asset = services.update_asset(
            user=request.user, asset=selectors.asset_get(code=code), data=_plain(request.data)
        )
        return Response(AssetSerializer(selectors.asset_get(code=asset.code)).data)


class AssetFileView(APIView):
    """The asset's file, only while it matches the SHA-256 recorded at MLR approval."""

    required_actions = {"GET": "view_assets"}
    permission_classes = [ActionPermission]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, code: str):
        asset = selectors.asset_get(code=code)
        data = services.asset_file_bytes(user=request.user, asset=asset)
        name = asset.file.name.rsplit("/", 1)[-1]
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = HttpResponse(data, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class AssetStatusView(APIView):
    # Compliance records approval and withdrawal; the service narrows per status.
    required_actions = {"POST": "view_assets"}
    permission_classes = [ActionPermission]

    @extend_schema(request=AssetStatusInputSerializer, responses=AssetSerializer)
    def post(self, request, code: str):
        data = validated(AssetStatusInputSerializer, _plain(request.data))
        asset = services.set_asset_status(
            user=request.user,
            asset=selectors.asset_get(code=code),
            status=data["status"],
            reason=data["reason"],
            password=data["password"],
            mlr_reference=data["mlr_reference"] or None,
        )
        return Response(AssetSerializer(selectors.asset_get(code=asset.code)).data)


class MappingListView(PaginatedView, APIView):
    required_actions = {"GET": "view_mappings", "POST": "propose_mapping"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=MappingSerializer(many=True))
    def get(self, request):
        services.expire_due_assets()
        qs = selectors.mapping_list(
            state=request.query_params.get("state"),
            segment=request.query_params.get("segment"),
            asset=request.query_params.get("asset"),
        )
        return paginated(request, self, qs, MappingSerializer)

    @extend_schema(request=MappingInputSerializer, responses={201: MappingSerializer})
    def post(self, request):
        data = validated(MappingInputSerializer, _plain(request.data))
        services.expire_due_assets()
        asset = ContentAsset.objects.filter(code=data["asset"]).first()
        if asset is None:
            raise ValidationFailed(f"no asset {data['asset']}", path="asset")
        segment = Segment.objects.filter(key=data["segment"]).first()
        if segment is None:
            raise ValidationFailed(f"no segment {data['segment']}", path="segment")
        mapping = services.propose_mapping(
            user=request.user, asset=asset, segment=segment, rationale=data["rationale"]
        )
        return Response(MappingSerializer(mapping).data, status=201)


def _mapping(pk) -> ContentMapping:
    try:
        mapping = selectors.mapping_list().filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        mapping = None
    if mapping is None:
        raise NotFound(f"no mapping {pk}")
    return mapping


class MappingDetailView(APIView):
    required_actions = {"GET": "view_mappings"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=MappingSerializer)
    def get(self, request, pk: int):
        services.expire_due_assets()
        return Response(MappingSerializer(_mapping(pk)).data)


class MappingDecisionView(APIView):
    required_actions = {"POST": "decide_mapping"}
    permission_classes = [ActionPermission]

    @extend_schema(request=MappingDecisionInputSerializer, responses=MappingSerializer)
    def post(self, request, pk: int):
        data = validated(MappingDecisionInputSerializer, _plain(request.data))
        services.expire_due_assets()
        mapping = services.decide_mapping(
            user=request.user,
            mapping=_mapping(pk),
            decision=data["decision"],
            comment=data["comment"],
            password=data["password"],
        )
        return Response(MappingSerializer(_mapping(mapping.pk)).data)
