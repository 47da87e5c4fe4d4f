from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from core.inbox import register  # noqa: PLC0415 - app registry ready

        from .inbox import governance_sections  # noqa: PLC0415 - models load after ready

        register("governance", governance_sections)
