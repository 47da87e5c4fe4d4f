"""Destinations (admin): validation of channel, kind, URL, directory and the write-only secret.

See docs/activation.md, "Destinations". The secret is stored but never
returned, logged or audited: audit snapshots say only whether one is set.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.permissions import require
from audit.services import record_event
from core.errors import ErrorDetail, ValidationFailed
from customers.vocabularies import Channel

from ..models import Destination, DestinationKind
from .addresses import host_refusal

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
FIELDS = ("key", "name", "channel", "kind", "url", "directory", "secret")


def file_root() -> Path:
    return Path(settings.ACTIVATION_FILE_ROOT).resolve()


def destination_snapshot(destination: Destination) -> dict:
    """What the audit trail and the API show: everything but the secret's value."""
    return {
        "key": destination.key,
        "name": destination.name,
        "channel": destination.channel,
        "kind": destination.kind,
        "url": destination.url,
        "directory": destination.directory,
        "has_secret": bool(destination.secret),
    }


def _text(value: Any, path: str, errors: list[ErrorDetail], *, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(ErrorDetail(path, "must be a string"))
        return ""
    if "\x00" in value:
        errors.append(ErrorDetail(path, "must not contain NUL characters"))
        return ""
    if len(value) > max_length:
        errors.append(ErrorDetail(path, f"must be at most {max_length} characters"))
        return ""
    return value.strip()


# Filesystems refuse a name longer than 255 bytes; the column holds 1000 characters.
NAME_MAX = 255
DIRECTORY_MAX = Destination._meta.get_field("directory").max_length


def _directory_too_long(resolved: Path) -> str | None:
    """Why the resolved directory cannot be stored or created, or None."""
    if len(str(resolved)) > DIRECTORY_MAX:
        return (
            f"the directory inside the root must be at most {DIRECTORY_MAX} characters "
            f"as a full path ({len(str(resolved))} here)"
        )
    if any(len(part.encode("utf-8")) > NAME_MAX for part in resolved.parts):
        return f"each folder name must be at most {NAME_MAX} bytes"
    return None


def _port_ok(parts) -> bool:
    try:
        port = parts.port
    except ValueError:
        return False
    return port is None or 0 < port < 65536


def inside_root(directory: str) -> Path | None:
    """The resolved directory when it lies inside ACTIVATION_FILE_ROOT, else None."""
    root = file_root()
    candidate = (root / directory).resolve()
    if candidate == root or root in candidate.parents:
        return candidate
    return None


def _clean(data: dict, *, current: Destination | None) -> dict:
    """Validated fields, merged over ``current`` for a PATCH; raises naming every broken rule."""
    if not isinstance(data, dict):
        raise ValidationFailed("expected a JSON object", path="")
    errors: list[ErrorDetail] = []
    unknown = sorted(set(data) - set(FIELDS))
    for name in unknown:
        errors.append(ErrorDetail(name, "unknown field"))
    merged: dict[str, Any] = (
        {f: getattr(current, f) for f in FIELDS} if current is not None else {f: "" for f in FIELDS}
    )
    limits = {"key": 64, "name": 200, "channel": 32, "kind": 16, "url": 1000, "directory": 1000}
    limits["secret"] = 500
    for name in FIELDS:
        if name in data:
            merged[name] = _text(data[name], name, errors, max_length=limits[name])
    if current is not None and "key" in data and merged["key"] != current.key:
        errors.append(ErrorDetail("key", "a destination's key cannot change"))
    if current is None and not KEY_RE.match(merged["key"] or ""):
        errors.append(
            ErrorDetail("key", "required: lowercase letters, digits, '-' or '_' (at most 64)")
        )
    if not merged["name"]:
        merged["name"] = merged["key"]
    if merged["channel"] not in Channel.values:
        errors.append(
            ErrorDetail(
                "channel",
                f"unknown channel '{merged['channel']}': one of {', '.join(Channel.values)}",
            )
        )
    if merged["kind"] not in DestinationKind.values:
        errors.append(ErrorDetail("kind", "kind must be 'webhook' or 'file'"))
    elif merged["kind"] == DestinationKind.WEBHOOK:
        parts = urlsplit(merged["url"] or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(
                ErrorDetail("url", "a webhook destination needs an http:// or https:// URL")
            )
        elif parts.username or parts.password:
            errors.append(
                ErrorDetail("url", "credentials do not belong in the URL: use the secret")
            )
        elif any(ch.isspace() for ch in merged["url"]):
            errors.append(ErrorDetail("url", "the URL must not contain spaces"))
        elif (refusal := host_refusal(parts.hostname)) is not None:
            errors.append(ErrorDetail("url", refusal))
        elif not _port_ok(parts):
            errors.append(ErrorDetail("url", "the URL's port must be a number from 1 to 65535"))
        if not merged["secret"]:
            errors.append(
                ErrorDetail("secret", "a webhook destination needs a secret to sign its messages")
            )
        merged["directory"] = ""
    elif merged["kind"] == DestinationKind.FILE:
        resolved = inside_root(merged["directory"]) if merged["directory"] else None
        if resolved is None:
            errors.append(
                ErrorDetail(
                    "directory",
                    "a file destination needs a directory inside the configured root "
                    f"ACTIVATION_FILE_ROOT ({file_root()})",
                )
            )
        elif (problem := _directory_too_long(resolved)) is not None:
            errors.append(ErrorDetail("directory", problem))
        else:
            merged["directory"] = str(resolved)
        merged["url"] = ""
    if errors:
        raise ValidationFailed(errors=errors)
    return merged


def create_destination(*, user, data: dict) -> Destination:
    """Create a destination (admin), audited without its secret."""
    require(user, "manage_destinations")
    fields = _clean(data, current=None)
    try:
        with transaction.atomic():
            destination = Destination.objects.create(created_by=user, **fields)
            record_event(
                actor=user,
                action="destination.created",
                object_type="destination",
                object_id=destination.key,
                after=destination_snapshot(destination),
            )
    except IntegrityError as exc:
        raise ValidationFailed(
            f"a destination with key '{fields['key']}' exists", path="key"
        ) from exc
    return destination


def update_destination(*, user, destination: Destination, data: dict) -> Destination:
    """Change name, channel, URL, directory or secret (admin). A changed secret is audited
    as the fact of the change, never its value."""
    require(user, "manage_destinations")
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=destination.pk)
        fields = _clean(data, current=destination)
        if fields["channel"] != destination.channel and destination.publications.exists():
            raise ValidationFailed(
                "the channel of a destination with publications cannot change "
                "(its publications were approved for that channel)",
                path="channel",
            )
        before = destination_snapshot(destination)
        secret_changed = fields["secret"] != destination.secret
        for name, value in fields.items():
            setattr(destination, name, value)
        destination.save()
        after = destination_snapshot(destination)
        if secret_changed:
            after["secret_changed"] = True
        record_event(
            actor=user,
            action="destination.updated",
            object_type="destination",
            object_id=destination.key,
            before=before,
            after=after,
        )
    return destination


def reencrypt_destination_secrets() -> int:
    """Encrypt every stored secret again with the newest ``DESTINATION_SECRET_KEY`` (the
    middle step of a key rotation, docs/activation.md); audited as a count, never a value."""
    with transaction.atomic():
        destinations = list(Destination.objects.select_for_update().exclude(secret=""))
        for destination in destinations:
            # Saving the plain text encrypts it with the first (newest) key.
            Destination.objects.filter(pk=destination.pk).update(secret=destination.secret)
        record_event(
            actor=None,
            action="destination.secrets_reencrypted",
            object_type="destination",
            object_id="*",
            after={"destinations": len(destinations)},
        )
    return len(destinations)
