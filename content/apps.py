from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "content"
    verbose_name = "Content library"

    def ready(self) -> None:
        # Offer the ``assets`` kind to customers' imports (docs/imports.md); customers
        # sits below content and never imports it.
        from customers.importing.registry import register  # noqa: PLC0415 - app registry ready

        from .importing import ASSETS_IMPORTER  # noqa: PLC0415 - models load after ready

        register(ASSETS_IMPORTER)

        from core.inbox import register as register_inbox  # noqa: PLC0415

        from .inbox import content_sections  # noqa: PLC0415 - models load after ready

        register_inbox("content", content_sections)

        # What completing a re-authenticated signature does (docs/identity.md).
        from accounts.signing import register_signing_purpose  # noqa: PLC0415

        from .reauth import PURPOSES  # noqa: PLC0415

        for purpose, complete in PURPOSES.items():
            register_signing_purpose(purpose, complete)
