from django.apps import AppConfig


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = "Segmentation"

    def ready(self) -> None:
        # Subscribe to customers_changed (a lower floor announces, we listen).
        from . import receivers  # noqa: F401  (import connects the receivers)
