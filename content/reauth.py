"""Recording an MLR status and deciding a mapping after re-authentication at the identity
provider (docs/identity.md).

The pages keep the signer's input in a signing request and send an SSO signer
to the provider; when it answers, accounts.signing validates the
re-authentication and calls the completion below, which signs through the
same service as the password path.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.signing import Reauthentication, begin_signing

from .models import ContentAsset, ContentMapping
from .services import decide_mapping, set_asset_status

ASSET_STATUS = "asset.status"
MAPPING_DECISION = "mapping.decide"


def begin_asset_status(
    request: HttpRequest, *, asset: ContentAsset, status: str, reason: str, mlr_reference: str
) -> HttpResponse:
    return begin_signing(
        request,
        purpose=ASSET_STATUS,
        object_type="asset",
        object_id=asset.code,
        payload={
            "asset": asset.code,
            "status": status,
            "reason": reason,
            "mlr_reference": mlr_reference,
        },
        return_url=reverse("content:asset_detail", args=[asset.code]),
    )


def complete_asset_status(*, user, payload: dict, reauth: Reauthentication) -> str:
    asset = ContentAsset.objects.get(code=payload["asset"])
    set_asset_status(
        user=user,
        asset=asset,
        status=payload["status"],
        reason=payload["reason"],
        password=None,
        mlr_reference=payload["mlr_reference"] or None,
        reauth=reauth,
    )
    return (
        f"{asset.code} is now {payload['status'].replace('_', ' ')} "
        "(signed by re-authentication at your identity provider)."
    )


def begin_mapping_decision(
    request: HttpRequest, *, mapping: ContentMapping, decision: str, comment: str
) -> HttpResponse:
    return begin_signing(
        request,
        purpose=MAPPING_DECISION,
        object_type="mapping",
        object_id=str(mapping.pk),
        payload={"mapping": mapping.pk, "decision": decision, "comment": comment},
        return_url=reverse("content:mapping_detail", args=[mapping.pk]),
    )


def complete_mapping_decision(*, user, payload: dict, reauth: Reauthentication) -> str:
    mapping = ContentMapping.objects.select_related("asset", "segment").get(pk=payload["mapping"])
    decide_mapping(
        user=user,
        mapping=mapping,
        decision=payload["decision"],
        comment=payload["comment"],
        password=None,
        reauth=reauth,
    )
    verb = "approved" if payload["decision"] == "approve" else "rejected"
    return (
        f"Mapping {mapping.asset.code} → {mapping.segment.key} {verb} "
        "(signed by re-authentication at your identity provider)."
    )


PURPOSES = {ASSET_STATUS: complete_asset_status, MAPPING_DECISION: complete_mapping_decision}
