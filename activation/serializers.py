"""Shapes of the activation API (docs/activation.md). No writes here: services do them."""

from __future__ import annotations

from rest_framework import serializers

from core.time import iso_z

from .selectors import delivery_health


class DestinationOut(serializers.Serializer):
    """A destination as the API shows it: never the secret, only whether one is set."""

    key = serializers.CharField()
    name = serializers.CharField()
    channel = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField()
    directory = serializers.CharField()
    has_secret = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class DestinationIn(serializers.Serializer):
    """Documentation of the request; the service validates and names each rule."""

    key = serializers.CharField()
    name = serializers.CharField(required=False)
    channel = serializers.CharField()
    kind = serializers.ChoiceField(choices=["webhook", "file"])
    url = serializers.CharField(required=False)
    directory = serializers.CharField(required=False)
    secret = serializers.CharField(required=False, write_only=True)


class PublicationIn(serializers.Serializer):
    destination = serializers.CharField()
    holdout_percent = serializers.IntegerField(required=False, min_value=0, max_value=50)


class PublicationOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    segment = serializers.CharField(source="segment.key")
    destination = serializers.CharField(source="destination.key")
    channel = serializers.CharField(source="destination.channel")
    holdout_percent = serializers.IntegerField()
    state = serializers.CharField()
    paused_reason = serializers.CharField()
    last_sync = serializers.IntegerField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    delivery = serializers.SerializerMethodField()

    def get_delivery(self, obj) -> str:
        return delivery_health(obj)


class SyncOut(serializers.Serializer):
    sync = serializers.IntegerField(source="number")
    version = serializers.IntegerField(source="version_number")
    as_of = serializers.SerializerMethodField()
    entered = serializers.IntegerField(source="entered_count")
    exited = serializers.IntegerField(source="exited_count")
    state = serializers.CharField()
    attempts = serializers.IntegerField()
    next_retry_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    message = serializers.SerializerMethodField()

    def get_as_of(self, obj) -> str:
        return iso_z(obj.as_of)

    def get_message(self, obj) -> dict:
        # The message exactly as pushed destinations receive it.
        return self.context["render"](obj)
