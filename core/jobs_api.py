"""``GET /api/v1/tasks/{id}/``: the state of a long job, for its owner or an admin (docs/api.md)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import NotFound, PermissionRefused
from .jobs import job_get


def _is_admin(user) -> bool:
    # Roles live on a higher floor (accounts); the user model answers for itself.
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_superuser", False) or (has_role and has_role("admin")))


class TaskView(APIView):
    """A job's state and progress, for the user who started it or an admin.

    Anyone else is refused with 403, as every forbidden action is (docs/api.md);
    task ids are random UUIDs, so the answer tells nothing a caller could probe.
    """

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, task_id):
        job = job_get(job_id=task_id)
        if job is None:
            raise NotFound(f"no task with id '{task_id}'", path="task_id")
        if job.owner_id != request.user.pk and not _is_admin(request.user):
            raise PermissionRefused(
                "only the user who started a task, or an admin, may read it", path="task_id"
            )
        return Response(job.as_dict())
