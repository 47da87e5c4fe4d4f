"""Content library: MLR-reviewed assets and their mappings to segments.

An asset is served to the field only while its MLR status is ``approved`` and
its expiry date has not passed. A mapping ties an approved asset to a segment
after a compliance e-signature; it is revoked when either side stops being
fit (asset expired or withdrawn, segment retired).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from customers.vocabularies import Channel


class Audience(models.TextChoices):
    HCP = "hcp"
    PATIENT = "patient"
    CAREGIVER = "caregiver"
    PAYER = "payer"


class Intent(models.TextChoices):
    PROMOTIONAL = "promotional"
    MEDICAL_EDUCATION = "medical_education"
    ACCESS_RESOURCE = "access_resource"


class MlrStatus(models.TextChoices):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


# Re-exported so callers validating channels need not know where the vocabulary lives.
ASSET_CHANNELS = Channel


class ContentAsset(models.Model):
    """One piece of content under MLR review (e.g. ``US-CARD-0042``)."""

    code = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=300)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    intent = models.CharField(max_length=32, choices=Intent.choices)
    therapy_area = models.CharField(max_length=100, blank=True)
    indications = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    mlr_status = models.CharField(max_length=16, choices=MlrStatus.choices, default=MlrStatus.DRAFT)
    mlr_reference = models.CharField(max_length=100, blank=True)
    mlr_approved_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    file = models.FileField(upload_to="assets/%Y/%m/", blank=True)
    link = models.URLField(max_length=500, blank=True)
    # SHA-256 of ``file`` recorded when MLR approval is recorded; a file that no
    # longer matches is never served (docs/governance.md, "Integrity and access controls").
    file_sha256 = models.CharField(max_length=64, blank=True)
    # The last e-signed MLR status (approval or withdrawal): how its signer was
    # authenticated, ``password`` or ``oidc`` with the issuer (docs/identity.md).
    mlr_signature_method = models.CharField(max_length=16, blank=True)
    mlr_signature_issuer = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["mlr_status", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mlr_status__in=MlrStatus.values), name="asset_mlr_status_valid"
            ),
            # Codes are unique ignoring case (create_asset checks; this holds under races).
            models.UniqueConstraint(Lower("code"), name="asset_code_unique_ignoring_case"),
            models.CheckConstraint(
                condition=models.Q(audience__in=Audience.values), name="asset_audience_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(intent__in=Intent.values), name="asset_intent_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class MappingState(models.TextChoices):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class ContentMapping(models.Model):
    """A brand proposal to use an asset with a segment, and compliance's signed decision.

    ``segment_version`` is the version the guards were checked against. The
    decision's e-signature (name, username, meaning, time, content hash of that
    version) is copied onto the row so the record stands on its own.
    """

    asset = models.ForeignKey(ContentAsset, on_delete=models.PROTECT, related_name="mappings")
    segment = models.ForeignKey(
        "segmentation.Segment", on_delete=models.PROTECT, related_name="content_mappings"
    )
    segment_version = models.ForeignKey(
        "segmentation.SegmentVersion", on_delete=models.PROTECT, related_name="content_mappings"
    )
    state = models.CharField(
        max_length=16, choices=MappingState.choices, default=MappingState.PROPOSED
    )
    rationale = models.TextField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposed_mappings"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decided_mappings",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    signer_username = models.CharField(max_length=150, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    signature_meaning = models.CharField(max_length=200, blank=True)
    signed_content_hash = models.CharField(max_length=64, blank=True)
    # How the decision's signer was authenticated: ``password`` or ``oidc`` (with the issuer).
    signature_method = models.CharField(max_length=16, blank=True)
    signature_issuer = models.CharField(max_length=500, blank=True)
    revoked_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [
            models.Index(fields=["state", "segment"]),
            models.Index(fields=["state", "asset"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=MappingState.values), name="mapping_state_valid"
            ),
            # Concurrent duplicate proposals: the second insert fails (409), never a duplicate.
            models.UniqueConstraint(
                fields=["asset", "segment"],
                condition=models.Q(state__in=["proposed", "approved"]),
                name="mapping_one_live_per_asset_segment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} -> {self.segment_id} ({self.state})"
