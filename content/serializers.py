"""Output shapes of docs/api.md for assets and mappings; inputs are plain checks in views."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from core.api import ModelOutSerializer

from .models import ContentAsset, ContentMapping
from .services import effective_status


class AssetSerializer(ModelOutSerializer):
    mlr_status = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()

    class Meta:
        model = ContentAsset
        fields = [
            "code",
            "title",
            "audience",
            "intent",
            "therapy_area",
            "indications",
            "channels",
            "mlr_status",
            "mlr_reference",
            "mlr_approved_at",
            "expires_at",
            "withdrawn_reason",
            "mlr_signature_method",
            "mlr_signature_issuer",
            "link",
            "file",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_mlr_status(self, asset: ContentAsset) -> str:
        # Computed, so an approved asset past its date never reads as approved.
        return getattr(asset, "effective_status", None) or effective_status(asset)

    def get_file(self, asset: ContentAsset) -> str | None:
        # Served through the API, which checks the SHA-256 recorded at approval.
        return reverse("api-asset-file", args=[asset.code]) if asset.file else None


class AssetInputSerializer(serializers.Serializer):
    """Documents the accepted fields for the schema; rules live in content.services."""

    code = serializers.CharField()
    title = serializers.CharField()
    audience = serializers.CharField()
    intent = serializers.CharField()
    therapy_area = serializers.CharField(required=False, allow_blank=True)
    indications = serializers.ListField(child=serializers.CharField(), required=False)
    channels = serializers.ListField(child=serializers.CharField(), required=False)
    mlr_reference = serializers.CharField(required=False, allow_blank=True)
    expires_at = serializers.CharField(required=False, allow_null=True)
    link = serializers.CharField(required=False, allow_blank=True)
    file = serializers.FileField(required=False)


class AssetStatusInputSerializer(serializers.Serializer):
    status = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(required=False, allow_blank=True, default="")
    mlr_reference = serializers.CharField(required=False, allow_blank=True, default="")


class MappingSerializer(ModelOutSerializer):
    asset = serializers.CharField(source="asset.code")
    segment = serializers.CharField(source="segment.key")
    segment_version = serializers.IntegerField(source="segment_version.number")
    proposed_by = serializers.CharField(source="proposed_by.username")
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = ContentMapping
        fields = [
            "id",
            "asset",
            "segment",
            "segment_version",
            "state",
            "rationale",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "signer_name",
            "signer_username",
            "signature_meaning",
            "signed_content_hash",
            "signature_method",
            "signature_issuer",
            "revoked_reason",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_decided_by(self, mapping: ContentMapping) -> str | None:
        return mapping.decided_by.username if mapping.decided_by_id else None


class MappingInputSerializer(serializers.Serializer):
    asset = serializers.CharField()
    segment = serializers.CharField()
    rationale = serializers.CharField(allow_blank=True)


class MappingDecisionInputSerializer(serializers.Serializer):
    decision = serializers.CharField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(required=False, allow_blank=True, default="")
