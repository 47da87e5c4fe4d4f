"""Field API: a territory's active segments with member counts and approved content."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from content.services import expire_due_assets
from core.api import PaginatedView, paginated

from . import selectors
from .serializers import FieldSegmentSerializer


class TerritorySegmentsView(PaginatedView, APIView):
    """A field lead's view: active segments with member counts in the territory and live content."""

    required_actions = {"GET": "view_territories"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=FieldSegmentSerializer(many=True))
    def get(self, request, code: str):
        territory = selectors.territory_for_user(user=request.user, code=code)
        expire_due_assets()
        rows = selectors.territory_segments(territory_code=territory.code)
        response = paginated(request, self, rows, FieldSegmentSerializer)
        response.data["territory"] = territory.code
        return response
