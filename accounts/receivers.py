"""Access-control side effects (docs/governance.md, "Integrity and access controls").

* failed logins (Django's ``user_login_failed``: login page, API token) and
  lockouts (django-axes' ``user_locked_out``) are audited, with the username
  tried and the client address, never the password;
* a password change or a deactivation revokes every API token of the user
  (sessions end by themselves: Django's session hash changes with the password).
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver
from knox.models import AuthToken

from audit.services import record_event

from .models import User
from .sso import is_break_glass, record_break_glass


def client_address(request) -> str:
    if request is None:
        return ""
    return getattr(request, "axes_ip_address", "") or request.META.get("REMOTE_ADDR", "")


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def audit_login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    record_event(
        actor=None,
        action="auth.login_failed",
        object_type="user",
        object_id=username,
        after={"username": username, "address": client_address(request)},
        reason="wrong username or password",
    )


@receiver(user_locked_out, dispatch_uid="accounts.audit_locked_out")
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    record_event(
        actor=None,
        action="auth.locked_out",
        object_type="user",
        object_id=str(username or "")[:150],
        after={"username": username or "", "address": ip_address or ""},
        reason="too many failed passwords",
    )


@receiver(user_logged_in, dispatch_uid="accounts.audit_break_glass")
def audit_break_glass(sender, request=None, user=None, **kwargs) -> None:
    """A local password sign-in (login page, admin site) by an administrator while local
    sign-in is off is a break-glass sign-in: audited (docs/identity.md)."""
    if getattr(user, "backend", "").endswith("ModelBackend") and is_break_glass(user):
        via = "login page" if request is None else request.path
        record_break_glass(user=user, via=via, address=client_address(request))


@receiver(pre_save, sender=User, dispatch_uid="accounts.revoke_tokens_on_credential_change")
def revoke_tokens_on_credential_change(sender, instance: User, **kwargs) -> None:
    if instance.pk is None:
        return
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        # In the transaction that saves the change: both commit, or neither.
        AuthToken.objects.filter(user_id=instance.pk).delete()
