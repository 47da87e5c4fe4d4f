from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Plumbing every app shares: errors, pagination, CSV streaming, time, temp tables.

    Nothing domain-specific lives here (docs/architecture.md).
    """

    name = "core"
    verbose_name = "Core"
