from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customer master data"

    def ready(self) -> None:
        from core.inbox import register  # noqa: PLC0415 - app registry ready

        from .inbox import imports_sections  # noqa: PLC0415 - models load after ready

        register("imports", imports_sections)
