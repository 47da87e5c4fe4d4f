from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customer master data"

    def ready(self) -> None:
        from core.inbox import register  # noqa: PLC0415 - app registry ready

        from .importing.coverage import COVERAGE_IMPORTER  # noqa: PLC0415
        from .importing.referrals import REFERRALS_IMPORTER  # noqa: PLC0415
        from .importing.registry import register as register_kind  # noqa: PLC0415
        from .inbox import imports_sections  # noqa: PLC0415 - models load after ready

        register("imports", imports_sections)
        # Kinds whose rows are not written by the staging engine (docs/imports.md).
        register_kind(COVERAGE_IMPORTER)
        register_kind(REFERRALS_IMPORTER)
