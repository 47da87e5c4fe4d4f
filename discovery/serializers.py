"""Request shapes of the discovery API: types only; ranges and lists are the services' checks."""

from __future__ import annotations

from rest_framework import serializers

from core.api import MomentField


class DescribeIn(serializers.Serializer):
    npis = serializers.JSONField()
    as_of = MomentField(required=False, allow_null=True)
    parent = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    max_conditions = serializers.JSONField(required=False, allow_null=True)
    ignore_unknown = serializers.JSONField(required=False, allow_null=True)


class PersonasIn(serializers.Serializer):
    k = serializers.JSONField(required=False, allow_null=True)
    as_of = MomentField(required=False, allow_null=True)
    parent = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    families = serializers.JSONField(required=False, allow_null=True)
