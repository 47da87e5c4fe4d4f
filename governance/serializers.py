"""Shapes for signatures, sign-off actions, the audit trail and field views."""

from __future__ import annotations

from rest_framework import serializers

from core.api import ModelOutSerializer

from .models import Signature


class SignatureSerializer(ModelOutSerializer):
    """SIGNATURE of docs/api.md (segments' version serializer may reuse it)."""

    version = serializers.IntegerField(source="version.number")
    voided = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = [
            "version",
            "team",
            "decision",
            "meaning",
            "comment",
            "signer_username",
            "signer_name",
            "signed_at",
            "content_hash",
            "method",
            "issuer",
            "voided",
            "voided_at",
        ]
        read_only_fields = fields

    def get_voided(self, signature: Signature) -> bool:
        return signature.voided_at is not None


class SignatureInputSerializer(serializers.Serializer):
    team = serializers.CharField()
    decision = serializers.CharField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(required=False, allow_blank=True, default="")


class RetireInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class VersionStateSerializer(serializers.Serializer):
    """What a lifecycle action answers: the version it acted on, after the action."""

    segment = serializers.CharField(source="segment.key")
    number = serializers.IntegerField()
    state = serializers.CharField()
    content_hash = serializers.CharField()
    preview_count = serializers.IntegerField(allow_null=True)
    member_count = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    signatures = serializers.SerializerMethodField()

    def get_signatures(self, version) -> list[dict]:
        return SignatureSerializer(version.signatures.all(), many=True).data
