"""API plumbing shared by every app: pagination and the error handler."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


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
