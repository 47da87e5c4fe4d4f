"""Asset files and links: what may be uploaded, and serving only the approved bytes.

docs/governance.md ("Integrity and access controls"): an asset's file is limited
to a list of types (checked by extension *and* by its first bytes, so an HTML
page renamed ``.pdf`` is refused), to ``ASSET_MAX_UPLOAD_BYTES``, and its links
to http(s). The file's SHA-256 is recorded when MLR approval is recorded; a file
whose bytes no longer match is never served.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.errors import Conflict, ValidationFailed

# extension -> the first bytes a real file of that type starts with
ALLOWED_FILE_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".pptx": (b"PK\x03\x04",),
    ".docx": (b"PK\x03\x04",),
    ".mp4": (),  # checked below: 'ftyp' at offset 4
}

_LINK_VALIDATOR = URLValidator(schemes=["http", "https"])


def clean_link(value: Any, *, path: str = "link") -> str:
    """An empty string or an absolute http(s) URL of at most 500 characters."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise ValidationFailed("expected an http(s) URL of at most 500 characters", path=path)
    value = value.strip()
    try:
        _LINK_VALIDATOR(value)
    except ValidationError:
        raise ValidationFailed("only http:// and https:// links are accepted", path=path) from None
    return value


def clean_upload(upload: Any, *, path: str = "file") -> Any:
    """Refuse an upload that is not a file, too large, or not one of ALLOWED_FILE_TYPES."""
    if upload in (None, ""):
        return ""
    if not hasattr(upload, "read") or not hasattr(upload, "name"):
        raise ValidationFailed("expected an uploaded file", path=path)
    limit = settings.ASSET_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(f"the file is larger than {limit} bytes", path=path)
    ext = PurePath(upload.name or "").suffix.lower()
    if ext not in ALLOWED_FILE_TYPES:
        raise ValidationFailed(
            f"file type '{ext or '(none)'}' is not accepted "
            f"(expected one of {', '.join(sorted(ALLOWED_FILE_TYPES))})",
            path=path,
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    magic = ALLOWED_FILE_TYPES[ext]
    ok = head[4:8] == b"ftyp" if ext == ".mp4" else any(head.startswith(m) for m in magic)
    if not ok:
        raise ValidationFailed(f"the file's content is not a {ext} file", path=path)
    return upload


def file_sha256(field) -> str:
    """SHA-256 of a stored FileField's bytes ('' when there is no file)."""
    if not field:
        return ""
    digest = hashlib.sha256()
    with field.storage.open(field.name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileTampered(Conflict):
    """The stored file no longer matches the SHA-256 recorded at approval (409)."""

    status = 409
    code = "file_tampered"


def verified_file_bytes(asset) -> bytes:
    """The asset's file, only if it still hashes to what was recorded at approval.

    An asset never approved (no recorded hash) is served as it is: it is not
    content that reached the field. Raises FileTampered otherwise.
    """
    if not asset.file:
        raise ValidationFailed("the asset has no file", path="file")
    with asset.file.storage.open(asset.file.name, "rb") as handle:
        data = handle.read()
    if asset.file_sha256 and hashlib.sha256(data).hexdigest() != asset.file_sha256:
        raise FileTampered(
            f"the file of {asset.code} does not match the SHA-256 recorded at approval; "
            "it is not served",
            path="file",
        )
    return data
