"""The one domain error type every service raises when it refuses something.

A single DRF exception handler (``core.api.exception_handler``) and the page
mixin turn these into 400/403/404 answers with the error shape of
docs/api.md: ``{"errors": [{"path": ..., "message": ...}]}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError


@dataclass(frozen=True)
class ErrorDetail:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class DomainError(Exception):
    """A refused action. ``status`` is the HTTP status an API answers with."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str = "",
        *,
        path: str = "",
        code: str | None = None,
        errors: list[ErrorDetail] | None = None,
    ) -> None:
        self.errors = errors or [ErrorDetail(path=path, message=message)]
        if code:
            self.code = code
        super().__init__("; ".join(str(e) for e in self.errors))

    def as_payload(self) -> dict:
        return {"errors": [e.as_dict() for e in self.errors]}


class ValidationFailed(DomainError):
    """Input that breaks a rule of the contract (400)."""

    status = 400
    code = "invalid"


class PermissionRefused(DomainError):
    """The user's roles do not allow the action (403)."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The object is not in a state that allows the action (400: a rule violation)."""

    status = 400
    code = "conflict"


class DuplicateKey(DomainError):
    """A concurrent request took the same unique key first; nothing was saved (409)."""

    status = 409
    code = "duplicate"


@contextmanager
def duplicates_refused(message: str, *, path: str) -> Iterator[None]:
    """Turn a unique-key race lost inside the block into DuplicateKey (409), never a 500.

    Wrap the whole ``transaction.atomic()`` block: the database has rolled it back.
    """
    try:
        yield
    except IntegrityError:
        raise DuplicateKey(message, path=path) from None
