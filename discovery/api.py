"""Discovery API (docs/discovery.md): describe, personas, differentiators.

Eager Celery (no REDIS_URL): 200 with the result at once. With workers: the
request is checked first (bad input is a 400 either way), then a job is
started and queued, and the answer is 202 ``{"task_id"}``.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import action_permission
from core.api import positive_int_param, validated
from segmentation.selectors import segment_get

from . import services
from .serializers import DescribeIn, PersonasIn
from .tasks import queue_describe, queue_personas

_RESPONSES = {
    200: OpenApiResponse(OpenApiTypes.OBJECT, description="the result (eager)"),
    202: OpenApiResponse(OpenApiTypes.OBJECT, description="queued: task_id"),
}


def _queued(job) -> Response:
    return Response({"task_id": str(job.id)}, status=status.HTTP_202_ACCEPTED)


class DescribeView(APIView):
    permission_classes = [IsAuthenticated, action_permission("run_discovery")]

    @extend_schema(request=DescribeIn, responses=_RESPONSES)
    def post(self, request):
        data = dict(validated(DescribeIn, request.data))
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return Response(services.describe_list(user=request.user, **data).result)
        return _queued(queue_describe(user=request.user, params=data))


class PersonasView(APIView):
    permission_classes = [IsAuthenticated, action_permission("run_discovery")]

    @extend_schema(request=PersonasIn, responses=_RESPONSES)
    def post(self, request):
        data = dict(validated(PersonasIn, request.data))
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return Response(services.find_personas(user=request.user, **data).result)
        return _queued(queue_personas(user=request.user, params=data))


class DifferentiatorsView(APIView):
    permission_classes = [IsAuthenticated, action_permission("view_differentiators")]

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="default: current version")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, key: str):
        segment = segment_get(key=key)
        return Response(
            services.segment_differentiators(
                user=request.user, segment=segment, number=positive_int_param(request, "version")
            )
        )
