"""HTTP API for customer data: list customers, import files, record interactions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from core.errors import ValidationFailed
from core.jobs import start_job

from . import import_runs, selectors, services, tasks
from .filters import CustomerFilter
from .models import ImportState
from .serializers import (
    CustomerSerializer,
    ImportInputSerializer,
    ImportQueuedSerializer,
    ImportResultSerializer,
    ImportStatusSerializer,
    InteractionInputSerializer,
)


class CustomerListView(generics.ListAPIView):
    """Customers, filtered by ``npi``, ``territory`` and ``specialty``; paginated."""

    required_actions = {"GET": "view_customers"}
    permission_classes = [ActionPermission]
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter

    def get_queryset(self):
        return selectors.customer_list()


class ImportView(APIView):
    """Import a CSV or XLSX file (multipart ``kind`` and ``file``), all or nothing.

    Anyone who imports something may call it; the service then requires the kind's own
    permission (brand and admin import data, compliance and admin import ``assets``)."""

    required_actions = {"POST": "use_imports"}
    permission_classes = [ActionPermission]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            201: ImportResultSerializer,
            202: ImportQueuedSerializer,
            400: OpenApiResponse(description="errors"),
        },
    )
    def post(self, request):
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        kind = serializer.validated_data["kind"]
        # What a public file does not carry itself (docs/sources.md): Part D's year.
        options = {"data_year": serializer.validated_data.get("data_year", "")}
        if not tasks.runs_eagerly():
            # Workers run: the write happens there; answer at once with the task to poll.
            run = import_runs.store_upload(
                kind=kind,
                upload=upload,
                user=request.user,
                state=ImportState.QUEUED,
                options=options,
            )
            job = start_job(kind="import", owner=request.user)
            run = tasks.queue_import_step(run, "write", job_id=str(job.pk))
            if getattr(run, "written_here", False):
                # The broker was down, so the import was written in this request.
                job.refresh_from_db()
                if job.state == "failed":
                    raise ValidationFailed(job.error or "the import failed", path="file")
                return Response(job.result, status=status.HTTP_201_CREATED)
            return Response(
                {
                    "task_id": str(job.pk),
                    "import_run_id": run.pk,
                    "status_url": f"/api/v1/tasks/{job.pk}/",
                },
                status=status.HTTP_202_ACCEPTED,
            )
        result = services.import_file(
            kind=kind,
            file=upload,
            file_name=upload.name or "upload",
            user=request.user,
            options=options,
        )
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


class ImportStatusView(APIView):
    """``{"state", "progress", "result"?, "error"?}`` of one import (its starter or an admin)."""

    required_actions = {"GET": "use_imports"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=ImportStatusSerializer)
    def get(self, request, pk: int):
        run = import_runs.run_for(pk=pk, user=request.user)
        return Response(tasks.import_status(run))


class InteractionCreateView(APIView):
    """Record one interaction (an object) or several (a list), all or nothing."""

    required_actions = {"POST": "record_interactions"}
    permission_classes = [ActionPermission]

    @extend_schema(
        request=InteractionInputSerializer(many=True),
        responses={201: ImportResultSerializer, 400: OpenApiResponse(description="errors")},
    )
    def post(self, request):
        result = services.record_interactions(data=request.data, user=request.user)
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)
