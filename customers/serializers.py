"""Input and output shapes of the customer API. No writes here: views call services."""

from __future__ import annotations

from rest_framework import serializers

from core.api import ModelOutSerializer

from .models import Customer


class CustomerSerializer(ModelOutSerializer):
    account_id = serializers.CharField(allow_null=True, read_only=True)
    territory = serializers.CharField(source="territory_id", allow_null=True, read_only=True)
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "npi",
            "first_name",
            "last_name",
            "credential",
            "specialty",
            "role",
            "practice_setting",
            "account_id",
            "state",
            "zip",
            "territory",
            "decile",
            "email_opt_out",
            "attributes",
            "taxonomy_code",
            "active",
            "deactivated_on",
            "updated_at",
        ]
        read_only_fields = fields

    def get_attributes(self, obj: Customer) -> dict[str, str]:
        return {a.key: a.value for a in obj.attributes.all()}


class ImportInputSerializer(serializers.Serializer):
    # Built-in kinds and those registered by higher apps (checked by the service).
    kind = serializers.CharField()
    file = serializers.FileField(allow_empty_file=True)
    data_year = serializers.CharField(
        required=False, allow_blank=True, help_text="partd only: the year the file covers"
    )


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    import_run_id = serializers.IntegerField(allow_null=True)
    skipped = serializers.IntegerField()
    report = serializers.DictField(help_text="skipped rows by reason, other counts")


class InteractionInputSerializer(serializers.Serializer):
    """Documents one interaction for the schema; values are checked by the import rules."""

    npi = serializers.CharField()
    occurred_at = serializers.CharField(help_text="ISO 8601 with offset or Z")
    channel = serializers.CharField()
    kind = serializers.CharField()
    topic = serializers.CharField(required=False, allow_blank=True)
    asset = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(required=False, allow_null=True)


class ImportQueuedSerializer(serializers.Serializer):
    """202: the import is queued for the workers."""

    task_id = serializers.CharField()
    import_run_id = serializers.IntegerField()
    status_url = serializers.CharField()


class ImportStatusSerializer(serializers.Serializer):
    """An import's status: the shape every long job's status shares (docs/imports.md)."""

    state = serializers.ChoiceField(choices=["pending", "running", "succeeded", "failed"])
    step = serializers.CharField()
    progress = serializers.FloatField()
    result = serializers.DictField(required=False)
    error = serializers.CharField(required=False)
    errors = serializers.ListField(child=serializers.CharField(), required=False)
