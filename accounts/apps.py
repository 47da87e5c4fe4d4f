from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users, roles and territories"

    def ready(self) -> None:
        # Audit failed logins and lockouts; revoke tokens on password change/deactivation.
        from . import receivers  # noqa: F401  (import connects the receivers)
