"""Input and output shapes of the segment API (docs/api.md). No writes here."""

from __future__ import annotations

from rest_framework import serializers

from core.api import ModelOutSerializer, MomentField

from .models import Membership, MembershipChange, Segment, SegmentVersion

# --- output -------------------------------------------------------------------


class SignatureOut(serializers.Serializer):
    """SIGNATURE; voided signatures (a rejection sent the version back) are flagged."""

    version = serializers.IntegerField(source="version.number")
    team = serializers.CharField()
    decision = serializers.CharField()
    meaning = serializers.CharField()
    comment = serializers.CharField()
    signer_username = serializers.CharField()
    signer_name = serializers.CharField()
    signed_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    voided = serializers.SerializerMethodField()
    voided_at = serializers.DateTimeField(allow_null=True)

    def get_voided(self, obj) -> bool:
        return obj.voided_at is not None


class VersionOut(serializers.Serializer):
    """VERSION."""

    number = serializers.IntegerField()
    state = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    purpose = serializers.CharField()
    therapy_area = serializers.CharField()
    indications = serializers.JSONField()
    parent = serializers.SerializerMethodField()
    entry_rule = serializers.JSONField()
    exit_rule = serializers.JSONField(allow_null=True)
    content_hash = serializers.CharField()
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    member_count = serializers.IntegerField()
    signatures = serializers.SerializerMethodField()
    preview_count = serializers.IntegerField(allow_null=True)
    previewed_at = serializers.DateTimeField(allow_null=True)
    last_recomputed_at = serializers.DateTimeField(allow_null=True)
    last_as_of = serializers.DateTimeField(allow_null=True)
    provenance = serializers.JSONField(allow_null=True)
    # Account segments only (null for customer segments).
    rollup = serializers.SerializerMethodField()

    def get_rollup(self, obj: SegmentVersion) -> str | None:
        return obj.rollup if obj.segment.unit == "account" else None

    def get_parent(self, obj: SegmentVersion) -> str | None:
        return obj.parent.key if obj.parent_id else None

    def get_signatures(self, obj: SegmentVersion) -> list[dict]:
        signatures = sorted(obj.signatures.all(), key=lambda s: (s.signed_at, s.pk))
        for s in signatures:
            s.version = obj  # avoid one query per signature
        return SignatureOut(signatures, many=True).data


class SegmentOut(serializers.Serializer):
    """Segment: key, active and latest version numbers, and every version."""

    key = serializers.CharField()
    unit = serializers.CharField()
    active_version = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    def _versions(self, obj: Segment) -> list[SegmentVersion]:
        return sorted(obj.versions.all(), key=lambda v: v.number)

    def get_active_version(self, obj: Segment) -> int | None:
        return next((v.number for v in self._versions(obj) if v.state == "active"), None)

    def get_latest_version(self, obj: Segment) -> int | None:
        versions = self._versions(obj)
        return versions[-1].number if versions else None

    def get_versions(self, obj: Segment) -> list[dict]:
        return VersionOut(self._versions(obj), many=True).data


class MemberOut(ModelOutSerializer):
    npi = serializers.CharField(source="customer.npi")

    class Meta:
        model = Membership
        fields = ["npi", "entered_at"]


class AccountMemberOut(serializers.Serializer):
    """A current member of an account segment (an open account spell)."""

    account_id = serializers.CharField()
    entered_at = serializers.DateTimeField(source="entered_as_of")


class AccountHistoryOut(serializers.Serializer):
    account_id = serializers.CharField()
    direction = serializers.CharField()
    as_of = serializers.DateTimeField()
    time = serializers.DateTimeField(source="recorded_at")
    recorded_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class HistoryOut(ModelOutSerializer):
    npi = serializers.CharField(source="customer.npi")
    version = serializers.IntegerField(source="version.number")
    # docs/api.md names the row's "time": when the change was recorded.
    time = serializers.DateTimeField(source="recorded_at", read_only=True)

    class Meta:
        model = MembershipChange
        fields = ["npi", "direction", "as_of", "time", "recorded_at", "version"]


# --- input --------------------------------------------------------------------


class _DefinitionFields(serializers.Serializer):
    """Types only; vocabularies, rules, parents and cycles are the service's checks."""

    name = serializers.CharField(max_length=200, trim_whitespace=True)
    description = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    purpose = serializers.CharField()
    therapy_area = serializers.CharField(allow_blank=True, required=False, max_length=100)
    indications = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, allow_empty=True
    )
    parent = serializers.CharField(allow_null=True, required=False)
    entry_rule = serializers.JSONField()
    exit_rule = serializers.JSONField(allow_null=True, required=False)


class SegmentCreateIn(_DefinitionFields):
    key = serializers.CharField()
    unit = serializers.CharField(required=False, default="customer")
    rollup = serializers.CharField(required=False, allow_null=True)
    # {"discovery": ID, "persona"?: INDEX}; checked by the registered resolver (provenance.py)
    provenance = serializers.JSONField(required=False, allow_null=True)


class SegmentPatchIn(_DefinitionFields):
    rollup = serializers.CharField(required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class PreviewIn(serializers.Serializer):
    unit = serializers.CharField(required=False, default="customer")
    rollup = serializers.CharField(required=False, allow_null=True)
    entry_rule = serializers.JSONField()
    exit_rule = serializers.JSONField(allow_null=True, required=False)
    parent = serializers.CharField(allow_null=True, required=False)
    as_of = MomentField(required=False, allow_null=True)


class RecomputeIn(serializers.Serializer):
    as_of = MomentField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class BacktestIn(serializers.Serializer):
    as_of = MomentField()
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1)
