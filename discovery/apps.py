from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    """Data-driven segment suggestions: describe a list, personas, differentiators.

    Top floor (docs/architecture.md): it reads customers and segmentation and
    hands segmentation the provenance of a saved suggestion through the
    resolver it registers here, so segmentation never imports discovery.
    """

    name = "discovery"
    verbose_name = "Discovery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: models can only be imported once the app registry is ready.
        from segmentation.provenance import register_provenance_resolver

        from .services.provenance import resolve_provenance

        register_provenance_resolver(resolve_provenance)
