from __future__ import annotations

from rest_framework import serializers


class FieldAssetSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    intent = serializers.CharField()
    channels = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(allow_null=True)
    mapping = serializers.IntegerField()


class FieldSegmentSerializer(serializers.Serializer):
    key = serializers.CharField()
    unit = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    purpose = serializers.CharField()
    therapy_area = serializers.CharField()
    member_count = serializers.IntegerField()
    assets = FieldAssetSerializer(many=True)
