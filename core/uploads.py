"""One upload size limit for every entry point (docs/imports.md, "Limits").

``UPLOAD_MAX_BYTES`` bounds every file sent to the product, through the API or a
page. Two guards share it:

* ``UploadLimitMiddleware`` refuses a request whose body is larger than the limit
  (plus room for the form's other fields) before a byte of it is read, so a huge
  upload is never spooled to disk: 400, in the API's error shape under ``/api/``
  and as a plain page elsewhere.
* ``check_upload_size`` refuses the file itself when it is over the limit, for
  bodies that slipped under the first guard; services call it.

A management command reading a file from a path is not an upload and has no limit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from .errors import ValidationFailed

# What a multipart body carries besides the file: boundaries, part headers, the
# other form fields (a kind, a CSRF token).
FORM_OVERHEAD_BYTES = 64 * 1024


def human_size(size: int) -> str:
    """``52428800`` -> ``"50 MB"`` (binary megabytes, as the settings are written)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.4g} MB"
    if size >= 1024:
        return f"{size / 1024:.4g} KB"
    return f"{size} bytes"


def too_large_message() -> str:
    limit = settings.UPLOAD_MAX_BYTES
    return (
        f"the file is larger than the {human_size(limit)} ({limit} bytes) accepted; "
        "split it into smaller files"
    )


def check_upload_size(upload: Any, *, path: str = "file") -> None:
    """Refuse an uploaded file over ``UPLOAD_MAX_BYTES`` (a path or a stream has no size)."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > settings.UPLOAD_MAX_BYTES:
        raise ValidationFailed(too_large_message(), path=path)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class UploadLimitMiddleware:
    """A body over the upload limit is refused before it is read (WSGI never reads
    past ``CONTENT_LENGTH``, so the declared length is the most Django would read)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _declared_length(request) > settings.UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES:
            message = too_large_message()
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": [{"path": "file", "message": message}]}, status=400)
            html = render_to_string("upload_too_large.html", {"message": message})
            return HttpResponse(html, status=400)
        return self.get_response(request)
