from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from core.inbox import register  # noqa: PLC0415 - app registry ready

        from .inbox import governance_sections  # noqa: PLC0415 - models load after ready

        register("governance", governance_sections)

        # What completing a re-authenticated signature does (docs/identity.md); accounts
        # sits below governance and never imports it.
        from accounts.signing import register_signing_purpose  # noqa: PLC0415

        from .reauth import PURPOSE, complete_version_signature  # noqa: PLC0415

        register_signing_purpose(PURPOSE, complete_version_signature)
