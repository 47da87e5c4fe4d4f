"""Users, their roles and the territories assigned to field leads."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.auth.password_validation import validate_password
from django.db import models


class Role(models.TextChoices):
    BRAND = "brand", "Brand"
    ACCESS = "access", "Market access"
    MEDICAL = "medical", "Medical affairs"
    COMPLIANCE = "compliance", "Compliance"
    FIELD_LEAD = "field_lead", "Field lead"
    ADMIN = "admin", "Administrator"


class Territory(models.Model):
    """A sales territory. Its code is the key used in imports and URLs."""

    code = models.CharField(max_length=64, primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """Django's superuser, with the password validators applied.

        ``createsuperuser --noinput`` sets DJANGO_SUPERUSER_PASSWORD without
        validating it; every path that sets a password applies the validators
        (docs/governance.md, "Integrity and access controls"). Its ValidationError
        becomes the command's error (exit 1).
        """
        if password is not None:
            validate_password(password, self.model(username=username, email=email or ""))
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person using the product. ``full_name`` is the printed name on signatures."""

    full_name = models.CharField(max_length=200, blank=True)
    territories = models.ManyToManyField(Territory, blank=True, related_name="users")

    # createsuperuser --noinput needs only DJANGO_SUPERUSER_USERNAME and _PASSWORD.
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.username

    @property
    def printed_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    @property
    def role_names(self) -> frozenset[str]:
        """The user's roles; a superuser holds every role."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            if self.is_superuser:
                cached = frozenset(Role.values)
            elif self.pk is None:
                cached = frozenset()
            else:
                cached = frozenset(self.role_assignments.values_list("role", flat=True))
            self._role_names = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.is_active and self.role_names.intersection(roles))

    def forget_roles(self) -> None:
        self.__dict__.pop("_role_names", None)
        self._role_names = None


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="unique_user_role"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="role_assignment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role}"


class OidcIdentity(models.Model):
    """A user known to the company's identity provider by (issuer, ``sub``) (docs/identity.md).

    A user with an identity signs in through the provider and signs by
    re-authenticating there; their local password is unusable.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="oidc_identity")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="unique_oidc_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SigningRequest(models.Model):
    """A signature waiting for its re-authentication at the provider (docs/identity.md).

    Kept server-side, keyed by the authorization request's ``state`` and bound
    to it by its ``nonce``; ``purpose`` names what is signed and ``payload``
    carries the signer's input (team, decision, comment...). Completed once:
    ``outcome`` is set when the re-authentication came back (or was abandoned).
    """

    class Outcome(models.TextChoices):
        PENDING = "", "pending"
        SIGNED = "signed", "signed"
        REFUSED = "refused", "refused"
        FAILED = "failed", "failed re-authentication"
        ABANDONED = "abandoned", "abandoned"

    state = models.CharField(max_length=100, unique=True)
    nonce = models.CharField(max_length=100)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signing_requests")
    purpose = models.CharField(max_length=50)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    return_url = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default="", blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.object_type} {self.object_id} by {self.user_id}"
