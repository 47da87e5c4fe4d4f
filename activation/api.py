"""Activation API (docs/activation.md): destinations, publications, syncs, measurement.

Each view checks the role for its action, reads the request and calls one
service or selector; refusals are DomainErrors, answered by
``core.api.exception_handler`` as ``{"errors": [...]}``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ActionPermission
from core.api import PaginatedView, StandardPagination, paginated
from core.errors import NotFound, ValidationFailed
from segmentation.models import Segment

from . import selectors, services
from .models import Destination, Publication
from .serializers import DestinationIn, DestinationOut, PublicationIn, PublicationOut, SyncOut


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", path="")
    return dict(data)


def _destination(key: str) -> Destination:
    destination = Destination.objects.filter(key=key).first()
    if destination is None:
        raise NotFound(f"no destination {key}")
    return destination


def _publication(pk) -> Publication:
    publication = selectors.publication_get(pk=pk)
    if publication is None:
        raise NotFound(f"no publication {pk}")
    return publication


def _publication_out(publication: Publication) -> dict:
    return PublicationOut(selectors.publication_get(pk=publication.pk)).data


class DestinationListView(PaginatedView, APIView):
    required_actions = {"GET": "view_destinations", "POST": "manage_destinations"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=DestinationOut(many=True))
    def get(self, request):
        return paginated(request, self, selectors.destination_list(), DestinationOut)

    @extend_schema(request=DestinationIn, responses={201: DestinationOut})
    def post(self, request):
        destination = services.create_destination(user=request.user, data=_object(request.data))
        return Response(DestinationOut(destination).data, status=201)


class DestinationDetailView(APIView):
    required_actions = {"GET": "view_destinations", "PATCH": "manage_destinations"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=DestinationOut)
    def get(self, request, key: str):
        return Response(DestinationOut(_destination(key)).data)

    @extend_schema(request=DestinationIn, responses=DestinationOut)
    def patch(self, request, key: str):
        destination = services.update_destination(
            user=request.user, destination=_destination(key), data=_object(request.data)
        )
        return Response(DestinationOut(destination).data)


class SegmentPublicationsView(PaginatedView, APIView):
    required_actions = {"GET": "view_publications", "POST": "publish_segment"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=PublicationOut(many=True))
    def get(self, request, key: str):
        return paginated(request, self, selectors.publication_list(segment=key), PublicationOut)

    @extend_schema(request=PublicationIn, responses={201: PublicationOut})
    def post(self, request, key: str):
        segment = Segment.objects.filter(key=key).first()
        if segment is None:
            raise NotFound(f"no segment {key}")
        data = _object(request.data)
        publication = services.create_publication(
            user=request.user,
            segment=segment,
            destination_key=data.get("destination"),
            holdout_percent=data.get("holdout_percent"),
        )
        return Response(_publication_out(publication), status=201)


class PublicationListView(PaginatedView, APIView):
    required_actions = {"GET": "view_publications"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=PublicationOut(many=True))
    def get(self, request):
        qs = selectors.publication_list(
            segment=request.query_params.get("segment"),
            destination=request.query_params.get("destination"),
        )
        return paginated(request, self, qs, PublicationOut)


class PublicationDetailView(APIView):
    required_actions = {"GET": "view_publications"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=PublicationOut)
    def get(self, request, pk: str):
        return Response(PublicationOut(_publication(pk)).data)


class PublicationSyncView(APIView):
    required_actions = {"POST": "sync_publication"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=dict)
    def post(self, request, pk: str):
        publication = _publication(pk)
        result = services.request_sync(user=request.user, publication=publication)
        return Response({**result, "publication": _publication_out(publication)})


class PublicationPauseView(APIView):
    required_actions = {"POST": "pause_publication"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=PublicationOut)
    def post(self, request, pk: str):
        # A JSON object or form fields (QueryDict.get reads one value); the body is optional.
        data = request.data if request.data else {}
        if not isinstance(data, dict):
            raise ValidationFailed("expected a JSON object", path="")
        reason = data.get("reason") or ""
        if not isinstance(reason, str):
            raise ValidationFailed("expected text", path="reason")
        publication = services.pause_publication(
            user=request.user, publication=_publication(pk), reason=reason
        )
        return Response(_publication_out(publication))


class PublicationResumeView(APIView):
    required_actions = {"POST": "resume_publication"}
    permission_classes = [ActionPermission]

    @extend_schema(request=None, responses=PublicationOut)
    def post(self, request, pk: str):
        publication = services.resume_publication(user=request.user, publication=_publication(pk))
        return Response(_publication_out(publication))


class PublicationSyncsView(PaginatedView, APIView):
    """The pull endpoint: syncs after ``?after=N`` with their messages and delivery state."""

    required_actions = {"GET": "view_publications"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=SyncOut(many=True))
    def get(self, request, pk: str):
        publication = _publication(pk)
        raw = request.query_params.get("after", "0")
        try:
            after = int(raw)
        except ValueError:
            raise ValidationFailed("after must be a whole number", path="after") from None
        if after < 0:
            raise ValidationFailed("after must be 0 or more", path="after")
        qs = selectors.syncs_after(publication=publication, after=after)
        paginator = StandardPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = SyncOut(page, many=True, context={"render": services.sync_message}).data
        return paginator.get_paginated_response(data)


class PublicationMeasurementView(APIView):
    required_actions = {"GET": "view_publications"}
    permission_classes = [ActionPermission]

    @extend_schema(responses=dict)
    def get(self, request, pk: str):
        return Response(services.publication_measurement(publication=_publication(pk)))
