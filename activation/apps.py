from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "Activation and measurement"

    def ready(self) -> None:
        # Subscribe to what the lower floors announce (docs/activation.md, "When syncs happen").
        from core.inbox import register  # noqa: PLC0415 - app registry ready

        from . import receivers  # noqa: F401  (import connects the receivers)
        from .inbox import activation_sections  # noqa: PLC0415 - models load after ready

        register("activation", activation_sections)
