"""The holdout rule of docs/activation.md, once in Python and once as SQL.

A customer is in a publication's holdout when the first 8 hex digits of
SHA-256 of ``<publication id>:<npi>``, read as an integer, modulo 100, are
below ``holdout_percent``. PostgreSQL computes it with ``sha256()``; SQLite
gets the Python function registered on its connection. Both give the same
bucket, and a test holds them to the Python definition.
"""

from __future__ import annotations

import hashlib

SQLITE_FUNCTION = "activation_holdout_bucket"


def holdout_bucket(publication_id: int, npi: str) -> int:
    """0..99: the customer's bucket in this publication."""
    digest = hashlib.sha256(f"{publication_id}:{npi}".encode()).hexdigest()
    return int(digest[:8], 16) % 100


def in_holdout(publication_id: int, npi: str, holdout_percent: int) -> bool:
    return holdout_bucket(publication_id, npi) < holdout_percent


def _sqlite_bucket(publication_id, npi) -> int | None:
    if publication_id is None or npi is None:
        return None
    return holdout_bucket(int(publication_id), str(npi))


def bucket_sql(connection, *, publication_id: int, npi_column: str) -> str:
    """An SQL expression giving the bucket of ``npi_column`` for this publication.

    ``publication_id`` is written as an integer literal (it is an int, never user text).
    """
    pid = int(publication_id)
    if connection.vendor == "postgresql":
        return (
            "mod(('x' || substr(encode(sha256(convert_to("
            f"'{pid}:' || {npi_column}, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint, 100)"
        )
    connection.ensure_connection()
    connection.connection.create_function(SQLITE_FUNCTION, 2, _sqlite_bucket, deterministic=True)
    return f"{SQLITE_FUNCTION}({pid}, {npi_column})"
