"""Webhook secrets encrypted at rest (docs/activation.md, "Secrets at rest").

A destination's secret signs every delivery, so a copy of the database alone
must not be enough to forge one: the column holds a Fernet token (AES-128-CBC
with an HMAC-SHA256, from the ``cryptography`` package) made with a key that
only the environment holds, ``DESTINATION_SECRET_KEY``. That variable is a
comma-separated list, newest key first (``MultiFernet``): secrets are
encrypted with the first and decrypted with whichever matches, so a key is
rotated by putting a new one in front, running ``rotate_destination_secrets``
and then dropping the old one.

``EncryptedTextField`` does it for a model field: Python code reads and writes
the plain text; the database sees only tokens.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.DESTINATION_SECRET_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise ImproperlyConfigured(
            "a stored destination secret cannot be decrypted with any key in "
            "DESTINATION_SECRET_KEY: keep the old key after the new one until "
            "rotate_destination_secrets has run"
        ) from None


def is_token(value: str) -> bool:
    """Whether ``value`` is a token one of today's keys made (not a plain secret)."""
    try:
        fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; the model attribute is the plain text."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
