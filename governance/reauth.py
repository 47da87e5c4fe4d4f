"""Signing a version after re-authentication at the identity provider (docs/identity.md).

The review page keeps the signer's input in a signing request and sends an SSO
signer to the provider; when the provider answers, accounts.signing validates
the re-authentication and calls ``complete_version_signature``, which signs
through the same service as the password path.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.signing import Reauthentication, begin_signing
from core.errors import Conflict
from segmentation.models import SegmentVersion

from .services import sign_version

PURPOSE = "segment.sign"


def begin_version_signature(
    request: HttpRequest, *, version: SegmentVersion, team: str, decision: str, comment: str
) -> HttpResponse:
    key, number = version.segment.key, version.number
    return begin_signing(
        request,
        purpose=PURPOSE,
        object_type="segment",
        object_id=key,
        payload={
            "segment": key,
            "version": number,
            "team": team,
            "decision": decision,
            "comment": comment,
            "content_hash": version.content_hash,
        },
        return_url=reverse("governance:review_detail", args=[key, number]),
    )


def complete_version_signature(*, user, payload: dict, reauth: Reauthentication) -> str:
    version = SegmentVersion.objects.select_related("segment").get(
        segment__key=payload["segment"], number=payload["version"]
    )
    if version.content_hash != payload["content_hash"]:
        raise Conflict("the version changed while you re-authenticated; nothing was signed")
    sign_version(
        user=user,
        version=version,
        team=payload["team"],
        decision=payload["decision"],
        comment=payload["comment"],
        password=None,
        reauth=reauth,
    )
    verb = "approved" if payload["decision"] == "approve" else "rejected"
    return (
        f"You {verb} {version.segment.key} v{version.number} for the {payload['team']} team "
        "(signed by re-authentication at your identity provider)."
    )
