from django.apps import AppConfig


class FieldConfig(AppConfig):
    """Field leads' views: their territories' active segments, approved content, exports."""

    name = "field"
    verbose_name = "Field views"
