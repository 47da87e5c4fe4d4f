"""Customer master data and engagement: accounts, HCPs, attributes, interactions, rx.

Optional text fields store "" when missing (Django's convention); the rule
engine treats NULL and "" alike as missing (docs/rules.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.models import Territory

from .vocabularies import (
    AccountType,
    Channel,
    Credential,
    CustomerRole,
    FormularyStatus,
    InteractionKind,
    PracticeSetting,
    RxMetric,
    Specialty,
    Topic,
)


class Account(models.Model):
    """An organization (health system, hospital, clinic, pharmacy, payer).

    The external ``account_id`` is the primary key, so imports and affiliations
    refer to it directly without a lookup.
    """

    account_id = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=200)
    account_type = models.CharField(max_length=32, choices=AccountType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    state = models.CharField(max_length=2, blank=True)
    zip = models.CharField(max_length=5, blank=True)
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    bed_count = models.PositiveIntegerField(null=True, blank=True)
    formulary_status = models.CharField(max_length=16, choices=FormularyStatus.choices, blank=True)
    # False once the NPPES file says the organization's NPI is deactivated (docs/sources.md).
    active = models.BooleanField(default=True, db_default=True)
    deactivated_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_id"]
        indexes = [models.Index(fields=["account_type"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.name}"


class Customer(models.Model):
    """A healthcare professional, identified by NPI."""

    npi = models.CharField(max_length=10, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    credential = models.CharField(max_length=8, choices=Credential.choices, blank=True)
    specialty = models.CharField(max_length=32, choices=Specialty.choices)
    role = models.CharField(max_length=32, choices=CustomerRole.choices, blank=True)
    practice_setting = models.CharField(max_length=32, choices=PracticeSetting.choices, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="customers"
    )
    state = models.CharField(max_length=2, blank=True)
    zip = models.CharField(max_length=5, blank=True)
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="customers"
    )
    decile = models.PositiveSmallIntegerField(null=True, blank=True)
    email_opt_out = models.BooleanField(default=False)
    # The NPPES primary taxonomy (docs/sources.md): the taxonomy import re-maps
    # the specialty of customers holding a code whose mapping changed.
    taxonomy_code = models.CharField(max_length=10, blank=True, db_default="")
    # False once NPPES says the NPI is deactivated: never a segment member
    # (docs/rules.md, "Inactive customers").
    active = models.BooleanField(default=True, db_default=True)
    deactivated_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["npi"]
        indexes = [
            models.Index(fields=["specialty", "decile"]),
            models.Index(fields=["state"]),
            models.Index(fields=["decile"]),
            # The few inactive customers (deactivated NPIs), whom a recompute leaves
            # out without reading every candidate's row (segmentation/services/
            # membership.py's target_query).
            models.Index(fields=["id"], condition=models.Q(active=False), name="customer_inactive"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decile__isnull=True) | models.Q(decile__gte=1, decile__lte=10),
                name="customer_decile_1_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.npi} {self.first_name} {self.last_name}"


class CustomerAttribute(models.Model):
    """A custom attribute (``attr.KEY`` in imports and rules), stored as a string.

    ``number`` holds the value parsed as a decimal (NULL when it does not
    parse), so numeric rule comparisons are plain indexed SQL.
    """

    # The (customer, key) unique constraint serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="attributes", db_index=False
    )
    key = models.CharField(max_length=100)
    value = models.CharField(max_length=1000)
    number = models.DecimalField(max_digits=38, decimal_places=10, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="unique_customer_attribute"),
        ]
        indexes = [
            models.Index(fields=["key", "value"]),
            models.Index(fields=["key", "number"]),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.key}={self.value}"


class Interaction(models.Model):
    """One engagement event. Missing topic and asset are stored as ""."""

    # The customer-leading indexes below serve lookups by customer (a customer
    # has a few dozen rows); no separate customer index to maintain on the
    # largest table. No database foreign key (migration 0013): the import
    # checks a file's references in one query, and Django deletes a customer's
    # interactions with the customer.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="interactions",
        db_index=False,
        db_constraint=False,
    )
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=32, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=InteractionKind.choices)
    topic = models.CharField(max_length=32, choices=Topic.choices, blank=True)
    asset = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # A customer's interactions in a window, whatever the channel:
            # "no interaction in 90 days" probed per candidate, a customer's
            # latest interaction on the field pages.
            models.Index(fields=["customer", "occurred_at"], name="interaction_customer_time"),
            # Covering (PostgreSQL): an event condition over the whole
            # population whose filter names neither channel nor topic ("3
            # interactions of any channel in 30 days") is an index-only scan
            # of its window (bench/README.md, "Previews").
            models.Index(
                fields=["occurred_at"],
                include=["customer", "channel", "kind", "topic"],
                name="interaction_time_covering",
            ),
            # Covering (PostgreSQL): a topic's window ("a safety-topic
            # interaction in 180 days") reads only that topic's rows, a ninth
            # of the window's (bench/README.md, "Previews").
            models.Index(
                fields=["topic", "occurred_at"],
                include=["customer", "channel", "kind"],
                name="interaction_topic_covering",
            ),
            # Covering (PostgreSQL): a segment's event count over the whole
            # population ("2 rep visits in 30 days") is an index-only scan of
            # one channel's window; kind is filtered in the index.
            models.Index(
                fields=["channel", "occurred_at"],
                include=["customer", "kind"],
                name="interaction_channel_covering",
            ),
            # No (customer, channel, kind, occurred_at) index (removed by
            # migration 0013): its one reader, an event condition's EXISTS
            # probed per candidate customer, reads the customer's few dozen
            # rows through interaction_customer_time as well, and every
            # import paid for it on each row. The readers of the others:
            # docs/scaling.md, "The interaction indexes and their readers".
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(external_id__isnull=False),
                name="unique_interaction_external_id",
            ),
            models.UniqueConstraint(
                fields=["customer", "occurred_at", "channel", "kind", "topic", "asset"],
                condition=models.Q(external_id__isnull=True),
                name="unique_interaction_natural_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}/{self.kind} at {self.occurred_at}"


class RxFact(models.Model):
    """Monthly prescribing facts for one customer and product. ``month`` is its first day."""

    # No database foreign key, as Interaction's (migration 0013).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="rx_facts",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField()
    product = models.CharField(max_length=64)
    nrx = models.PositiveIntegerField()
    trx = models.PositiveIntegerField()
    new_patient_starts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # The metrics ride along (PostgreSQL), so one customer's rx sums
            # are index-only reads, and so are one product's per month.
            models.UniqueConstraint(
                fields=["customer", "month", "product"],
                include=["nrx", "trx", "new_patient_starts"],
                name="unique_rx_fact",
            ),
            # RxYear's product "" means every product (migration 0010).
            models.CheckConstraint(condition=~models.Q(product=""), name="rx_fact_product_named"),
        ]
        indexes = [
            models.Index(
                fields=["product", "month"],
                include=["customer", "nrx", "trx", "new_patient_starts"],
                name="rxfact_product_month_covering",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product} {self.month:%Y-%m}"


# The rx metrics, summed by rx conditions (docs/rules.md, "Rx conditions").
RX_METRICS: tuple[str, ...] = tuple(RxMetric.values)


def rx_month_column(metric: str, month: int) -> str:
    """RxYear's column holding ``metric`` for calendar ``month`` (1-12)."""
    return f"{metric}_{month}"


class RxYear(models.Model):
    """A customer's rx facts for one product (``product`` "": every product) and
    calendar year, summed per month: column ``trx_7`` holds July's trx.

    Written only by database triggers on ``customers_rxfact`` (migration
    0010_rx_year; docs/rules.md, "Rx by calendar year"): every insert, update
    and delete of rx facts adds its difference here in the same statement, so
    the sums are always exact. An rx condition whose months lie in one year
    reads one row per customer instead of one fact per customer and month, and
    needs no grouping. Never write it from Python. Deleting facts may leave a
    row of zeros; it means the same as no row (a sum of 0).
    """

    # No database foreign key (migration 0013): written from facts whose
    # customers are checked; deleted by Django with the customer.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="rx_years",
        db_index=False,
        db_constraint=False,
    )
    product = models.CharField(max_length=64, blank=True)
    year = models.IntegerField()

    class Meta:
        constraints = [
            # The triggers' upsert key. A product's year is one range of it,
            # read in one scan by a preview over the whole population; one
            # customer's row is one probe.
            models.UniqueConstraint(fields=["product", "year", "customer"], name="unique_rx_year"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product or 'all products'} {self.year}"


# Every month column of RxYear, metric by metric.
RX_YEAR_COLUMNS: tuple[str, ...] = tuple(
    rx_month_column(metric, month) for metric in RX_METRICS for month in range(1, 13)
)
for _column in RX_YEAR_COLUMNS:
    RxYear.add_to_class(_column, models.BigIntegerField(default=0, db_default=0))


def rx_annual_column(metric: str) -> str:
    """RxYear's column holding ``metric`` of the year's yearly facts (RxAnnualFact)."""
    return f"{metric}_year"


for _metric in RX_METRICS:
    RxYear.add_to_class(rx_annual_column(_metric), models.BigIntegerField(default=0, db_default=0))


class RxAnnualFact(models.Model):
    """Yearly prescribing facts for one customer and product (the Part D file,
    docs/sources.md). A metric the source suppressed or does not have is NULL
    (missing), never 0.

    An rx condition counts a yearly fact exactly when its month window holds all
    twelve months of the year. The triggers of migration 0011 add each fact to
    its RxYear row's ``{metric}_year`` columns (and to the "" row of every
    product), which the rx compiler adds for the window's whole years.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="rx_annual_facts", db_index=False
    )
    year = models.IntegerField()
    product = models.CharField(max_length=64)
    nrx = models.PositiveIntegerField(null=True, blank=True)
    trx = models.PositiveIntegerField(null=True, blank=True)
    new_patient_starts = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "year", "product"], name="unique_rx_annual_fact"
            ),
            models.CheckConstraint(
                condition=~models.Q(product=""), name="rx_annual_fact_product_named"
            ),
        ]
        indexes = [models.Index(fields=["product", "year"], name="rxannual_product_year")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product} {self.year}"


class TaxonomyCode(models.Model):
    """A NUCC Health Care Provider Taxonomy code and the product specialty it maps to.

    Rows come from the ``taxonomy`` import (the NUCC code set file); codes never
    imported fall back to the shipped mapping (customers/data/taxonomy_specialty.csv).
    """

    code = models.CharField(max_length=10, primary_key=True)
    grouping = models.CharField(max_length=200, blank=True)
    classification = models.CharField(max_length=200, blank=True)
    specialization = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    specialty = models.CharField(max_length=32, choices=Specialty.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} -> {self.specialty}"


class ZipAlignment(models.Model):
    """Territory alignment: a 3-digit zip prefix or a 5-digit zip -> territory.

    A customer's or account's territory is its zip5's row, else its zip3's
    (docs/sources.md, "Territory alignment"). Replaced as a whole by each
    ``alignment`` import.
    """

    zip = models.CharField(max_length=5, primary_key=True)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="zips")

    class Meta:
        ordering = ["zip"]

    def __str__(self) -> str:
        return f"{self.zip} -> {self.territory_id}"


# How many of a customer's latest interactions InteractionRecency keeps per facet.
RECENT_KEPT = 5


def recency_facet(event_filter: dict) -> str | None:
    """The InteractionRecency facet holding exactly the interactions ``event_filter``
    matches, or None when no facet does (docs/rules.md, "Latest interactions").

    ``{}`` is every interaction (facet ""), ``{"channel": c}`` one channel's,
    ``{"topic": t}`` one topic's (never the missing topic "").
    """
    if not event_filter:
        return ""
    if len(event_filter) == 1:
        ((key, value),) = event_filter.items()
        if key in ("channel", "topic") and isinstance(value, str) and value:
            return f"{key}:{value}"
    return None


class InteractionRecency(models.Model):
    """A customer's RECENT_KEPT latest interaction times per facet, latest first.

    A facet is every interaction (""), one channel ("channel:webinar") or one
    topic ("topic:safety"). ``last_k`` is the k-th latest ``occurred_at``
    (equal times counted once per interaction), NULL when the customer has
    fewer than k such interactions; a customer without any has no row.
    "At least k such interactions in (start, as_of]" is then ``last_k > start``
    for a customer whose latest one is not after ``as_of`` (docs/rules.md,
    "Latest interactions").

    Written only by database triggers on ``customers_interaction`` (migration
    0009_interaction_recency), in the same statement as the interactions, so
    it is exact after every kind of write. Never write it from Python.
    """

    # No database foreign key (migration 0013): written from facts whose
    # customers are checked; deleted by Django with the customer.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="interaction_recency",
        db_index=False,
        db_constraint=False,
    )
    facet = models.CharField(max_length=48)
    last_1 = models.DateTimeField(null=True)
    last_2 = models.DateTimeField(null=True)
    last_3 = models.DateTimeField(null=True)
    last_4 = models.DateTimeField(null=True)
    last_5 = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            # The triggers' upsert key; a facet's rows are one range of it,
            # read in one scan by a preview over the whole population.
            models.UniqueConstraint(
                fields=["facet", "customer"], name="unique_interaction_recency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.facet or 'any'} latest {self.last_1}"


class Coverage(models.Model):
    """A payer's formulary status and covered lives for one product from a date on.

    The row in force at a time is the latest with ``effective_from`` on or
    before it (docs/rules.md, "Coverage conditions"). Natural key: (account,
    product, effective_from); the ``coverage`` import upserts on it.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="coverage")
    product = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=FormularyStatus.choices)
    lives = models.PositiveIntegerField()
    effective_from = models.DateField()

    class Meta:
        ordering = ["account", "product", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "account", "effective_from"], name="unique_coverage_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.product} {self.status} from {self.effective_from}"


class ReferralNetwork(models.Model):
    """One imported referral period (the shared-patient layout's ``period_end``)."""

    period_end = models.DateField(unique=True)
    pairs = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_end"]

    def __str__(self) -> str:
        return f"referral network ending {self.period_end}"


class Referral(models.Model):
    """One directed pair of a period (``npi_1`` -> ``npi_2``), kept as imported.

    NPIs are kept as text: a pair naming an NPI that is not a customer is kept
    but counts in no influence field (docs/imports.md, "referrals").
    """

    network = models.ForeignKey(ReferralNetwork, on_delete=models.CASCADE, related_name="pairs_set")
    npi_1 = models.CharField(max_length=10)
    npi_2 = models.CharField(max_length=10)
    pair_count = models.PositiveIntegerField()
    bene_count = models.PositiveIntegerField()
    same_day_count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "npi_1", "npi_2"], name="unique_referral"),
        ]

    def __str__(self) -> str:
        return f"{self.npi_1} -> {self.npi_2}"


class Influence(models.Model):
    """A customer's influence fields in one referral period, computed at import.

    A customer in no pair of the period has no row (every field missing).
    ``pagerank_pct_in_specialty`` is NULL when the specialty is missing.
    """

    network = models.ForeignKey(ReferralNetwork, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="influence", db_index=False
    )
    referrals_in = models.PositiveIntegerField()
    referrals_out = models.PositiveIntegerField()
    pagerank = models.FloatField()
    pagerank_pct = models.PositiveSmallIntegerField()
    pagerank_pct_in_specialty = models.PositiveSmallIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "network"], name="unique_influence"),
        ]
        indexes = [models.Index(fields=["network", "pagerank_pct"])]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.network_id}: {self.pagerank_pct}"


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts"
    CUSTOMERS = "customers"
    INTERACTIONS = "interactions"
    RX = "rx"
    NPPES = "nppes"
    TAXONOMY = "taxonomy"
    PARTD = "partd"
    ALIGNMENT = "alignment"


class ImportState(models.TextChoices):
    """An import from the pages: checked first (nothing written), then written on confirm
    (docs/imports.md, "In the browser"). API and command-line imports are written at once."""

    CHECKING = "checking"
    CHECKED = "checked"
    INVALID = "invalid"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ImportRun(models.Model):
    """One import: what it did (counts), or for a page import where it stands."""

    # Built-in kinds (ImportKind) or one registered by a higher app (e.g. content's assets).
    kind = models.CharField(max_length=16)
    file_name = models.CharField(max_length=255)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # Rows read but not written (e.g. a Part D brand nobody tracks), and why:
    # {"reason": count}; ``report`` also holds other counts worth showing.
    skipped = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    # What the file itself does not say (Part D's ``data_year``).
    options = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=ImportState.choices, default=ImportState.SUCCEEDED
    )
    task_id = models.CharField(max_length=64, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    errors = models.JSONField(default=list, blank=True)  # "row N: column: message" lines
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.file_name}"
