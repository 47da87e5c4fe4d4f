"""Reads that may be slightly old go to a streaming replica (docs/scaling.md).

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database alias:
a PostgreSQL hot standby kept by the primary's own streaming replication.
Nothing reads from it unless all of these hold:

* the request is one of the reads listed in ``REPLICA_READ_VIEWS`` (previews,
  differentiators, field lists and exports, dashboards, measurement; GET and
  HEAD only, except the previews' POST, which writes nothing): the request
  middleware marks it, and nothing else (workers, commands, every write) is;
* the user has not written anything in the last ``REPLICA_PIN_SECONDS``
  (read-your-writes: a write pins the browser to the primary with a signed
  cookie, so a user never reads a list older than their own change);
* the replica answers and its replay lag is under ``REPLICA_MAX_LAG_SECONDS``
  (checked at most every few seconds); otherwise pages read the primary;
* ``REPLICA_READS_ENABLED`` is on (the operator's switch, e.g. during a failover).

Sessions, users, tokens, lockouts and job records always read the primary:
they are read on the way into every request, and a login that has not yet
reached the replica must still be a login.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core import signing
from django.db import DatabaseError, connections
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
PIN_COOKIE = "primary_until"
_PIN_SALT = "core.replica.pin"

# Models whose freshness decides who the user is: always the primary.
PRIMARY_APPS = frozenset({"sessions", "accounts", "auth", "authtoken", "axes", "core", "audit"})

_reading = contextvars.ContextVar("replica_reading", default=False)
_lag_lock = threading.Lock()
_lag_cache: dict[str, float | None] = {"checked": 0.0, "lag": None}


def configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag() -> float | None:
    """Seconds the replica's replay is behind, or None when it does not answer.

    0 when it has replayed everything it received (an idle primary sends no
    new transactions, so "time since the last replayed one" would grow forever).
    """
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)"
                " END"
            )
            return float(cursor.fetchone()[0])
    except DatabaseError:
        logger.warning("replica does not answer; reading the primary", exc_info=True)
        connections[REPLICA].close()
        return None


def _lag_cached() -> float | None:
    now = time.monotonic()
    with _lag_lock:
        if now - _lag_cache["checked"] < settings.REPLICA_LAG_CHECK_SECONDS:
            return _lag_cache["lag"]
    lag = replica_lag()
    with _lag_lock:
        _lag_cache.update(checked=now, lag=lag)
    return lag


def forget_lag() -> None:
    """Check the replica again at the next read (tests, and after a failover)."""
    with _lag_lock:
        _lag_cache.update(checked=0.0, lag=None)


def healthy() -> bool:
    lag = _lag_cached()
    return lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS


def read_alias() -> str:
    """The alias a replica-eligible read should use right now."""
    if configured() and settings.REPLICA_READS_ENABLED and _reading.get() and healthy():
        return REPLICA
    return PRIMARY


def read_cursor():
    """A cursor for a raw replica-eligible read (the ORM's reads are routed by ReplicaRouter)."""
    return connections[read_alias()].cursor()


@contextmanager
def reading_replica(enabled: bool = True) -> Iterator[None]:
    """Mark the reads inside as allowed on the replica (the request middleware uses it)."""
    token = _reading.set(enabled and configured())
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Every write on the primary; eligible reads on the replica (see module docstring)."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label in PRIMARY_APPS:
            return PRIMARY
        return read_alias()

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both aliases

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


def pin_value() -> str:
    until = time.time() + settings.REPLICA_PIN_SECONDS
    return signing.dumps(until, salt=_PIN_SALT)


def pinned(request) -> bool:
    raw = request.COOKIES.get(PIN_COOKIE)
    if not raw:
        return False
    try:
        until = signing.loads(raw, salt=_PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS + 60)
    except signing.BadSignature:
        return False
    return time.time() < float(until)


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READS = frozenset({"GET", "HEAD"})


class ReplicaReadMiddleware:
    """Mark replica-eligible reads; pin a browser to the primary after it writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = None
        if configured():
            from django.urls import Resolver404, resolve

            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
        name = match.view_name if match else ""
        eligible = (
            name in settings.REPLICA_READ_VIEWS
            and (request.method in _READS or name in settings.REPLICA_READ_POSTS)
            and not pinned(request)
        )
        with reading_replica(eligible):
            response = self.get_response(request)
        if (
            configured()
            and request.method in _WRITES
            and name not in settings.REPLICA_READ_POSTS
            and response.status_code < 400
        ):
            response.set_cookie(
                PIN_COOKIE,
                pin_value(),
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                secure=request.is_secure(),
                samesite="Lax",
            )
        return response


@dataclasses.dataclass(repr=False)
class ReplicaLag(HealthCheck):
    """``/health/``: the replica answers and its replay lag (seconds) is within the limit.

    Over the limit pages already read the primary, so the site still works;
    the check fails so that monitoring shows the replica needs attention.
    """

    def run(self) -> None:
        lag = replica_lag()
        if lag is None:
            raise ServiceUnavailable("replica does not answer; pages read the primary")
        if lag > settings.REPLICA_MAX_LAG_SECONDS:
            raise ServiceUnavailable(
                f"replica is {lag:.1f} s behind (limit {settings.REPLICA_MAX_LAG_SECONDS:g} s); "
                "pages read the primary"
            )
        self.lag_seconds = lag

    def __repr__(self) -> str:
        lag = getattr(self, "lag_seconds", None)
        return "Replica lag" if lag is None else f"Replica lag ({lag:.1f} s)"
