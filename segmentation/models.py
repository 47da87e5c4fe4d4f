"""Segments, their versions, current membership and membership history.

A segment's unit is the customer (HCP). Each version keeps its own current
membership; a segment reference or a parent reads the membership of the
referenced segment's active version, else its latest version (docs/rules.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Account, Customer


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


class Unit(models.TextChoices):
    """What a segment's members are (docs/rules.md, "Account segments"); fixed at creation."""

    CUSTOMER = "customer"
    ACCOUNT = "account"


class Rollup(models.TextChoices):
    """Which customers an account segment's rules count as the account's own."""

    DIRECT = "direct"
    HIERARCHY = "hierarchy"


class Segment(models.Model):
    key = models.CharField(max_length=64, unique=True)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.CUSTOMER)
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
    # Account segments only: "hierarchy" also counts the customers of every account below.
    rollup = models.CharField(max_length=16, choices=Rollup.choices, default=Rollup.DIRECT)
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


# Membership and history are one table of spells, written only by the recompute
# engine, which selects their customer, version and run from the parent tables
# in the same transaction (docs/architecture.md). They carry no row-level
# foreign-key constraint (``db_constraint=False``): at national scale the
# deferred checks cost about half of a full recompute (bench/README.md).
# Deleting a customer or a version still cascades, through Django's collector;
# a test checks that no row ever points at a missing parent.
_NO_CONSTRAINT = {"db_constraint": False, "db_index": False}
# ``Membership`` and ``MembershipChange`` are read-only views of the spells:
# the collector deletes spells, never rows of a view.
_VIEW = {"on_delete": models.DO_NOTHING, "db_constraint": False, "db_index": False}


class _Spell(models.Model):
    """When a stay began and ended, and which runs recorded it (both units' spells)."""

    entered_as_of = models.DateTimeField()
    entered_recorded_at = models.DateTimeField()
    # Runs are deleted only with their version, whose spells go with it: no
    # cascade (and no index) from the run.
    entered_run = models.ForeignKey(
        "RecomputeRun", null=True, on_delete=models.DO_NOTHING, related_name="+", **_NO_CONSTRAINT
    )
    exited_as_of = models.DateTimeField(null=True)
    exited_recorded_at = models.DateTimeField(null=True)
    exited_run = models.ForeignKey(
        "RecomputeRun", null=True, on_delete=models.DO_NOTHING, related_name="+", **_NO_CONSTRAINT
    )

    class Meta:
        abstract = True


class MembershipSpell(_Spell):
    """One stay of a customer in a version: entered by a run, exited by a later one (or current).

    One row per member instead of a membership row plus a history row, so a
    full recompute writes half the rows (bench/README.md, "Recompute").
    Entering inserts a spell; exiting sets its ``exited_*`` columns. Current
    members are the open spells (``exited_as_of`` null); the history is every
    spell's entry and exit. A spell whose entry (or exit) has no run came from
    data kept before the spell table and has no history row for it.

    A migration that alters this table must drop the two views first and
    create them again after (``migrations/0005``'s ``VIEWS``): SQLite rebuilds
    an altered table under a new name, which it refuses while a view reads it.
    """

    version = models.ForeignKey(
        SegmentVersion, on_delete=models.CASCADE, related_name="spells", **_NO_CONSTRAINT
    )
    # Indexed: a customer's memberships, and deleting a customer finds its spells.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="membership_spells",
        db_constraint=False,
    )

    class Meta:
        constraints = [
            # Current members: the engine's M, references and parents read it.
            models.UniqueConstraint(
                fields=["version", "customer"],
                condition=models.Q(exited_as_of__isnull=True),
                name="one_open_spell",
            ),
        ]
        # History by version (and since a date); the current members use the key above.
        indexes = [models.Index(fields=["version", "entered_as_of"])]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.version_id} from {self.entered_as_of}"


class AccountMembershipSpell(_Spell):
    """One stay of an account in a version of an account segment (as MembershipSpell).

    A separate table, so the customer path's table, keys and plans stay as
    they are; the engine writes both through one code path (``segmentation.units``).
    """

    version = models.ForeignKey(
        SegmentVersion, on_delete=models.CASCADE, related_name="account_spells", **_NO_CONSTRAINT
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="membership_spells",
        db_constraint=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "account"],
                condition=models.Q(exited_as_of__isnull=True),
                name="one_open_account_spell",
            ),
        ]
        indexes = [models.Index(fields=["version", "entered_as_of"])]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.version_id} from {self.entered_as_of}"


class Membership(models.Model):
    """A customer currently in a version: a view of the open spells (read only).

    ``entered_at`` is the as_of of the run that added them.
    """

    version = models.ForeignKey(SegmentVersion, related_name="members", **_VIEW)
    customer = models.ForeignKey(Customer, related_name="memberships", **_VIEW)
    entered_at = models.DateTimeField()

    class Meta:
        managed = False

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
    """One customer entering or leaving a version: the membership history.

    A view of the spells (read only): each spell's entry, and its exit once it
    has one. ``id`` is twice the spell's id for the entry, plus one for the exit.
    """

    version = models.ForeignKey(SegmentVersion, related_name="changes", **_VIEW)
    customer = models.ForeignKey(Customer, related_name="membership_changes", **_VIEW)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    as_of = models.DateTimeField()
    recorded_at = models.DateTimeField()
    run = models.ForeignKey(RecomputeRun, related_name="changes", **_VIEW)

    class Meta:
        managed = False
        ordering = ["recorded_at", "id"]

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
