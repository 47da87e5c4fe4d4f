"""Segments, their versions, current membership and membership history.

A segment's unit is the customer (HCP). Each version keeps its own current
membership; a segment reference or a parent reads the membership of the
referenced segment's active version, else its latest version (docs/rules.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Customer


class VersionState(models.TextChoices):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


class Purpose(models.TextChoices):
    PROMOTIONAL = "promotional"
    MEDICAL_EDUCATION = "medical_education"
    MARKET_ACCESS = "market_access"


class Segment(models.Model):
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class SegmentVersion(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(
        max_length=16, choices=VersionState.choices, default=VersionState.DRAFT
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    therapy_area = models.CharField(max_length=100, blank=True)
    indications = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="child_versions"
    )
    entry_rule = models.JSONField()
    exit_rule = models.JSONField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_versions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The last size preview, and the content hash it was computed for: a
    # submission needs a preview of exactly the content being submitted.
    preview_count = models.PositiveIntegerField(null=True, blank=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    previewed_hash = models.CharField(max_length=64, blank=True)
    # Denormalised from the latest recompute run so lists need no COUNT(*).
    member_count = models.PositiveIntegerField(default=0)
    last_recomputed_at = models.DateTimeField(null=True, blank=True)
    last_as_of = models.DateTimeField(null=True, blank=True)
    # Where the definition came from (a discovery suggestion), resolved when saved;
    # ``edited: true`` once the rule was changed afterwards (docs/discovery.md).
    provenance = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["segment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "number"], name="unique_version_number"),
            models.UniqueConstraint(
                fields=["segment"],
                condition=models.Q(state="active"),
                name="one_active_version_per_segment",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=VersionState.values), name="version_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return f"{self.segment.key} v{self.number} ({self.state})"


# Membership and history rows are only ever written by the recompute engine,
# which selects their customer, version and run from the parent tables in the
# same transaction (docs/architecture.md). They carry no row-level foreign-key
# constraint (``db_constraint=False``): at national scale the deferred checks
# cost about half of a full recompute (bench/README.md). Deleting a customer,
# version or run still cascades, through Django's collector; a test checks that
# no row ever points at a missing parent. Indexes: (version, customer) is the
# key; the version-only and duplicate customer indexes were covered by others.
_NO_CONSTRAINT = {"db_constraint": False, "db_index": False}


class Membership(models.Model):
    """A customer currently in a version. ``entered_at`` is the as_of of the run that added them."""

    version = models.ForeignKey(
        SegmentVersion, on_delete=models.CASCADE, related_name="members", **_NO_CONSTRAINT
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="memberships", **_NO_CONSTRAINT
    )
    entered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "customer"], name="unique_membership"),
        ]
        indexes = [models.Index(fields=["customer"])]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.version_id}"


class RecomputeTrigger(models.TextChoices):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    DATA_CHANGE = "data_change"
    ACTIVATION = "activation"


class RecomputeRun(models.Model):
    """One recompute of one version, written in the transaction that changed membership."""

    version = models.ForeignKey(
        SegmentVersion, on_delete=models.CASCADE, related_name="recompute_runs"
    )
    as_of = models.DateTimeField()
    trigger = models.CharField(
        max_length=16, choices=RecomputeTrigger.choices, default=RecomputeTrigger.MANUAL
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)
    member_count = models.PositiveIntegerField(default=0)
    # Incremental runs evaluate only the customers whose data changed.
    scope_size = models.PositiveIntegerField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} as of {self.as_of}"


class Direction(models.TextChoices):
    ENTRY = "entry"
    EXIT = "exit"


class MembershipChange(models.Model):
    """One customer entering or leaving a version: the membership history."""

    version = models.ForeignKey(
        SegmentVersion, on_delete=models.CASCADE, related_name="changes", **_NO_CONSTRAINT
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="membership_changes", **_NO_CONSTRAINT
    )
    direction = models.CharField(max_length=8, choices=Direction.choices)
    as_of = models.DateTimeField()
    recorded_at = models.DateTimeField()
    # Indexed: deleting a run (with its version) finds its rows through it.
    run = models.ForeignKey(
        RecomputeRun, on_delete=models.CASCADE, related_name="changes", db_constraint=False
    )

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["version", "as_of"]),
            models.Index(fields=["customer", "as_of"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.direction} {self.version_id} as of {self.as_of}"


class RecomputeRequest(models.Model):
    """The transactional outbox of recompute work (docs/architecture.md).

    Written in the transaction that changed customer data, so the change and
    its recompute request commit together; ``segmentation.outbox`` hands it to
    Celery on commit, from a beat task and at worker start. ``done_at`` is set
    once the recompute has run, so a request is never done twice.
    """

    customer_ids = models.JSONField()
    source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="recompute_request_pending", condition=models.Q(done_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"recompute request #{self.pk} ({len(self.customer_ids)} customers)"
