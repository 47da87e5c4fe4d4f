"""A discovery run: what was asked, what was answered, kept so a saved draft can cite it.

docs/discovery.md, "Saving a suggestion": the version's provenance copies the
run's method, metrics, as_of, population, positives, list size and the
SHA-256 of the sorted NPIs. The NPIs themselves are not kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DiscoveryKind(models.TextChoices):
    DESCRIBE = "describe"
    PERSONAS = "personas"


class DiscoveryRun(models.Model):
    kind = models.CharField(max_length=16, choices=DiscoveryKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="discovery_runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    as_of = models.DateTimeField()
    parent_key = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=64)
    population = models.PositiveIntegerField()
    positives = models.PositiveIntegerField(null=True, blank=True)
    list_size = models.PositiveIntegerField(null=True, blank=True)
    npis_sha256 = models.CharField(max_length=64, blank=True)
    request = models.JSONField(default=dict)
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=DiscoveryKind.values), name="discovery_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} by {self.user_id}"
