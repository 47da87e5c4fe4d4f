"""API plumbing shared by every app: pagination, input validation, CSV content negotiation,
and the one exception handler that gives every refusal the error shape of docs/api.md."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, ValidationFailed
from core.time import RANGE_MESSAGE, check_in_range


class StandardPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M up to 1000, larger is read as 1000), docs/api.md "Pagination".

    A ``page`` or ``page_size`` that is not a whole number of 1 or more is bad
    input: 400 naming the parameter (DRF would answer 404, or quietly use the
    default size). A page past the last one stays DRF's 404.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request) -> int:
        size = positive_int_param(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get(self.page_query_param) not in self.last_page_strings:
            positive_int_param(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view=view)


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date-time input in UTC, refused (400 naming the field) outside the
    range the product accepts (``core.time.EARLIEST`` .. ``LATEST``), never a 500."""

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except OverflowError:  # no UTC equivalent, e.g. 0001-01-01T00:00+01:00
            raise serializers.ValidationError(RANGE_MESSAGE) from None
        try:
            return check_in_range(moment, path=self.field_name or "")
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.errors[0].message) from None


def positive_int_param(request, name: str) -> int | None:
    """Query parameter ``name`` as an integer >= 1, None when absent; else 400 naming it."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"'{raw}' is not an integer", path=name) from None
    if value < 1:
        raise ValidationFailed("must be a positive integer", path=name)
    return value


def _flatten(detail, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error detail into a flat list of path/message pairs."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = "" if key in ("non_field_errors", "detail") else str(key)
            path = f"{prefix}.{key}" if prefix and key else (key or prefix)
            out.extend(_flatten(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            out.extend({"path": prefix, "message": str(v)} for v in detail)
        else:
            for i, value in enumerate(detail):
                out.extend(_flatten(value, f"{prefix}[{i}]"))
    else:
        out.append({"path": prefix, "message": str(detail)})
    return out


def exception_handler(exc, context):
    """Answer every refusal with ``{"errors": [{"path", "message"}]}``."""
    if isinstance(exc, DomainError):
        return Response(exc.as_payload(), status=exc.status)
    if isinstance(exc, IntegrityError):
        # A unique key taken by a concurrent request: nothing of this one was saved.
        message = "conflicts with a concurrent change (a unique key is taken); nothing was saved"
        return Response({"errors": [{"path": "", "message": message}]}, status=409)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Response({"errors": _flatten(detail)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"errors": _flatten(exc.detail)}
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"errors": [{"path": "", "message": str(exc.detail)}]}
    else:
        response.data = {"errors": [{"path": "", "message": str(getattr(exc, "detail", exc))}]}
    return response


class CsvRenderer(BaseRenderer):
    """Lets ``?format=csv`` pass DRF's content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only reached for error answers negotiated as CSV: render them as JSON text.
        return JSONRenderer().render(data)


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate request data with ``serializer_class``; a failure raises DRF's 400 error shape."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ModelOutSerializer(serializers.ModelSerializer):
    """A model's output shape. A choice or URL field whose model field may be blank is
    returned as ``""`` when empty, so the schema allows ``""`` for it too (DRF drops
    ``allow_blank`` from read-only fields, and ``""`` is no URI)."""

    def get_fields(self):
        fields = super().get_fields()
        model = self.Meta.model
        for name, field in list(fields.items()):
            try:
                model_field = model._meta.get_field(field.source or name)
            except FieldDoesNotExist:
                continue
            if not model_field.blank:
                continue
            if isinstance(field, serializers.ChoiceField):
                field.allow_blank = True
            elif isinstance(field, serializers.URLField) and field.read_only:
                # "" when there is none, which is not a URI: documented as text.
                source = {"source": field.source} if field.source not in (None, name) else {}
                fields[name] = serializers.CharField(read_only=True, **source)
        return fields


class PaginatedView:
    """Mixed into an APIView whose GET answers ``paginated(...)``: the OpenAPI schema then
    describes the answer as it is, ``{"count", "next", "previous", "results"}`` with the
    ``page`` and ``page_size`` parameters (drf-spectacular reads ``pagination_class``)."""

    pagination_class = StandardPagination


def paginated(request, view, queryset, serializer_class) -> Response:
    """One page of ``queryset`` serialised with ``serializer_class``, in the list shape."""
    paginator = StandardPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
