"""Destinations, publications, what each destination holds, numbered syncs and deliveries.

See docs/activation.md. What each destination holds is kept as rows
(``PublicationMember`` in state ``sent``) so every sync's difference is
computed set-based in SQL against the active version's membership; each
sync's changes are kept as rows (``SyncChange``) and the message is rendered
from them, identically at every delivery attempt.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Account, Customer
from customers.vocabularies import Channel
from segmentation.models import Segment, SegmentVersion

from .encryption import EncryptedTextField


class DestinationKind(models.TextChoices):
    WEBHOOK = "webhook"
    FILE = "file"


class Destination(models.Model):
    """A company system that receives syncs: a webhook or a directory (a CRM or SFTP drop)."""

    key = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=32, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=DestinationKind.choices)
    url = models.CharField(max_length=1000, blank=True)
    directory = models.CharField(max_length=1000, blank=True)
    # Write-only: never serialised, logged or audited (docs/activation.md); encrypted at
    # rest with DESTINATION_SECRET_KEY (activation.encryption), read back as plain text.
    secret = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=DestinationKind.values), name="destination_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="destination_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class PublicationState(models.TextChoices):
    LIVE = "live"
    PAUSED = "paused"


class Publication(models.Model):
    """A segment sent to one destination, with a fixed holdout percentage."""

    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="publications")
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, related_name="publications"
    )
    holdout_percent = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=PublicationState.choices, default=PublicationState.LIVE
    )
    paused_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The number of the last sync made (0 before the first).
    last_sync = models.PositiveIntegerField(default=0)
    # The approved asset codes the last sync carried, to notice a content change.
    content = models.JSONField(default=list, blank=True)
    # A lease on delivery, so one worker at a time delivers this publication's syncs in order.
    delivery_lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(holdout_percent__gte=0, holdout_percent__lte=50),
                name="publication_holdout_0_50",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=PublicationState.values),
                name="publication_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"publication {self.pk}: {self.segment_id} -> {self.destination_id}"


class MemberState(models.TextChoices):
    SENT = "sent"  # the destination holds this member
    HOLDOUT = "holdout"  # never sent: the holdout rule picked them
    SUPPRESSED = "suppressed"  # not sent: email opt-out on an email destination


class PublicationMember(models.Model):
    """What the publication decided for a current member of the active version.

    The destination's set is the rows in state ``sent``. Holdout and
    suppressed members are kept too, so a delta only looks at customers who
    joined or left, and measurement reads both groups from one table.
    ``since`` is when the row reached its state (entry for ``sent``).
    """

    # No database-level constraint (the ORM still cascades): the rows are written
    # set-based by the sync under a lock on the publication, and half a million
    # deferred foreign-key checks at commit would double a first sync's time.
    publication = models.ForeignKey(
        Publication,
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,
        db_constraint=False,
    )
    # No database-level constraint either (the ORM still cascades a customer's deletion).
    # Exactly one of customer and account is set: the unit of the publication's segment.
    customer = models.ForeignKey(
        Customer, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    account = models.ForeignKey(
        Account, null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    state = models.CharField(max_length=12, choices=MemberState.choices)
    entered_sync = models.PositiveIntegerField()
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "customer"], name="unique_publication_member"
            ),
            models.UniqueConstraint(
                fields=["publication", "account"], name="unique_publication_account"
            ),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=True) ^ models.Q(account__isnull=True),
                name="publication_member_one_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=MemberState.values),
                name="publication_member_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id or self.account_id} {self.state} at {self.publication_id}"


class OptOutCheck(models.Model):
    """A customer whose data changed while an email publication had decided on them.

    Written by the ``customers_changed`` receiver inside the data change's own
    transaction, so it commits with the change; the next sync of the publication
    re-checks these customers' opt-out and deletes the rows it checked.
    """

    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["publication", "customer"], name="unique_opt_out_check")
        ]

    def __str__(self) -> str:
        return f"check {self.customer_id} for {self.publication_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Sync(models.Model):
    """One numbered message of a publication and the state of its delivery."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="syncs")
    number = models.PositiveIntegerField()
    version = models.ForeignKey(
        SegmentVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version_number = models.PositiveIntegerField(default=0)
    as_of = models.DateTimeField()
    content = models.JSONField(default=list, blank=True)
    trigger = models.CharField(max_length=32, blank=True)
    entered_count = models.PositiveIntegerField(default=0)
    exited_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["publication", "number"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "number"], name="unique_sync_number"),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="sync_number_positive"),
            models.CheckConstraint(
                condition=models.Q(state__in=DeliveryState.values), name="sync_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_retry_at"])]

    def __str__(self) -> str:
        return f"sync {self.number} of publication {self.publication_id}"


class ChangeAction(models.TextChoices):
    ENTER = "enter"
    EXIT = "exit"


class SyncChange(models.Model):
    """One member entered or exited by a sync. A customer's NPI is copied so the record
    stands alone; an account's ``account_id`` is its key, so it stands alone already."""

    # The (sync, action, npi) index serves lookups by sync; no separate FK index.
    # No database-level constraint, for the reason given on PublicationMember.publication.
    sync = models.ForeignKey(
        Sync, on_delete=models.CASCADE, related_name="changes", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey(
        Customer, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    # Account segments: the account sent (its external id), with ``npi`` empty.
    account = models.ForeignKey(
        Account,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    npi = models.CharField(max_length=10, blank=True)
    action = models.CharField(max_length=8, choices=ChangeAction.choices)
    reason = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sync", "action", "npi"])]

    def __str__(self) -> str:
        return f"{self.action} {self.npi or self.account_id} in {self.sync_id}"


class DeliveryAttempt(models.Model):
    """One try at delivering a sync: the log behind the delivery page."""

    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.sync_id}"
