"""DRF's content negotiation with a clear error for an unknown ``?format=`` (docs/api.md).

A module of its own: DRF resolves ``DEFAULT_CONTENT_NEGOTIATION_CLASS`` while
``rest_framework.views`` is being imported, so this class must not live in a
module that imports ``rest_framework.views`` itself (``core.api`` does).
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class StrictFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` must name one of the view's formats; another is a 400 naming ``format``.

    DRF answers an unknown format with a bare 404, as if the resource were missing.
    """

    def filter_renderers(self, renderers, format):  # noqa: A002 - DRF's argument name
        matching = [r for r in renderers if r.format == format]
        if not matching:
            known = ", ".join(sorted({r.format for r in renderers if r.format != "api"}))
            raise exceptions.ValidationError(
                {"format": [f"unknown format '{format}' (expected one of {known})"]}
            )
        return matching
