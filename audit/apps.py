from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail every app writes to: append-only, hash-chained (docs/governance.md)."""

    name = "audit"
    verbose_name = "Audit trail"
