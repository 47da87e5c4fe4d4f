"""Request guards every page and API shares (docs/governance.md, "Integrity and access controls").

* ``RejectNulMiddleware``: a NUL character in the path, the query string or a
  form field answers 400 (PostgreSQL cannot store it; it would be a 500).
* ``ContentSecurityPolicyMiddleware``: a Content-Security-Policy header on every
  answer (``CONTENT_SECURITY_POLICY``): scripts and styles from this site only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError

_NUL_ERROR = {"errors": [{"path": "", "message": "NUL characters are not accepted"}]}


def _has_nul(querydict) -> str | None:
    for key, values in querydict.lists():
        if "\x00" in key:
            return key.replace("\x00", "")
        for value in values:
            if isinstance(value, str) and "\x00" in value:
                return key
    return None


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return JsonResponse(_NUL_ERROR, status=400)
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method == "POST" and content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            try:
                field = _has_nul(request.POST)
            except MultiPartParserError:
                field = None  # left to the view, which answers 400
            if field is not None:
                error = {"errors": [{**_NUL_ERROR["errors"][0], "path": field}]}
                return JsonResponse(error, status=400)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        return response


def content_security_policy() -> str:
    """The policy; with single sign-on on, forms may also lead to the identity provider
    (a signature's form answers with a redirect there, docs/identity.md)."""
    policy = settings.CONTENT_SECURITY_POLICY
    issuer = getattr(settings, "OIDC_ISSUER", "")
    if issuer and "form-action 'self'" in policy:
        parts = urlsplit(issuer)
        policy = policy.replace(
            "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
        )
    return policy
