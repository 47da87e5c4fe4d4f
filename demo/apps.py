from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Synthetic demo data (``manage.py seed_demo``); its own dependencies are pandas and numpy."""

    name = "demo"
    verbose_name = "Demo data"
