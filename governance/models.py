"""Sign-off records: electronic signatures on segment versions (docs/governance.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Team(models.TextChoices):
    BRAND = "brand"
    ACCESS = "access"
    MEDICAL = "medical"


class Decision(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"


class Signature(models.Model):
    """An electronic signature on one segment version (21 CFR Part 11 §11.50).

    Signer name, username, time, meaning and the version's content hash are
    copied onto the row so the record stands on its own. ``voided_at`` is set
    when a rejection sends the version back to draft: the row stays as a
    record but no longer counts toward approval (signatures never carry over).
    """

    version = models.ForeignKey(
        "segmentation.SegmentVersion", on_delete=models.PROTECT, related_name="signatures"
    )
    team = models.CharField(max_length=16, choices=Team.choices)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    meaning = models.CharField(max_length=200)
    comment = models.TextField(blank=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    signer_username = models.CharField(max_length=150)
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    # How the signer was authenticated (docs/identity.md): ``password`` re-entered, or
    # ``oidc`` re-authentication at the identity provider ``issuer``.
    method = models.CharField(max_length=16, default="password")
    issuer = models.CharField(max_length=500, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"{self.signer_username} {self.decision} for {self.team} on {self.version_id}"
