from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "Activation and measurement"

    def ready(self) -> None:
        # Subscribe to what the lower floors announce (docs/activation.md, "When syncs happen").
        from . import receivers  # noqa: F401  (import connects the receivers)
