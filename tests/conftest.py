"""Shared fixtures: users of every role, API clients, browser launch options."""

from __future__ import annotations

import os

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.replica import standby  # noqa: F401 (the hot standby fixture)

# Playwright's sync API runs an event loop; Django refuses ORM calls from one
# unless told it is safe (it is: the live server runs in its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# With SQLite the live server's threads share the test's one in-memory
# connection; a page's parallel htmx requests then interleave on it, and one
# request's rollback aborts another's statement. Serve one request at a time
# (in the live server's thread, which already holds the shared connection).


class _OneRequestAtATimeServer(WSGIServer):
    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = _OneRequestAtATimeServer


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests run last, after pytest-django's own ordering.

    Playwright's session-wide sync API keeps an event loop running in the main
    thread from the first browser test on; Django then refuses to run any async
    view (``/health/``) in that thread. Running the browser tests last keeps
    every other test in a thread without a loop. ``sort`` is stable, so the
    database ordering pytest-django chose is kept within each group.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """Before a browser test's fixtures are torn down, let its page's requests finish
    and leave the page.

    With SQLite the live server shares the test's one connection: a request still
    in flight when the database is flushed fails the teardown with "database table
    is locked" and leaves the connection unusable for the next test. Runs before
    pytest's own teardown (``tryfirst``), while the page is still open.
    """
    page = getattr(item, "funcargs", {}).get("page")
    if page is None:
        return
    try:
        page.wait_for_load_state("networkidle", timeout=5_000)
        page.goto("about:blank", timeout=5_000)
    except Exception:  # noqa: BLE001 - a closed or crashed page has nothing in flight
        pass


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing(django_test_environment):
    """PBKDF2 at full strength makes the permission matrices minutes slower; tests need no KDF."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Worker and command subprocesses run without pytest, so they need the keys
    # in their environment (the same development keys this process uses).
    os.environ.setdefault("SECRET_KEY", settings.SECRET_KEY)
    os.environ.setdefault("AUDIT_HMAC_KEY", settings.AUDIT_HMAC_KEY)
    os.environ.setdefault("DESTINATION_SECRET_KEY", ",".join(settings.DESTINATION_SECRET_KEYS))


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """DRF throttles count in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _primary_reads_unless_replica_test(request, settings):
    """A standby cannot see a test's uncommitted rows: only ``replica`` tests read from it."""
    if request.node.get_closest_marker("replica") is None:
        settings.REPLICA_READS_ENABLED = False


@pytest.fixture(autouse=True)
def _audit_anchor_dir(settings, tmp_path, monkeypatch):
    """Each test's database starts empty, so each test gets its own audit anchor."""
    anchor_dir = tmp_path / "audit-anchor"
    settings.AUDIT_ANCHOR_DIR = anchor_dir
    monkeypatch.setenv("AUDIT_ANCHOR_DIR", str(anchor_dir))


ROLES = ("brand", "access", "medical", "compliance", "field_lead", "admin")


@pytest.fixture
def make_user(db):
    """Create a user with the given roles (and territories)."""

    def _make(*roles: str, username: str | None = None, territories=(), **kwargs):
        if username is not None:
            kwargs["username"] = username
        return UserFactory(roles=list(roles), territories=list(territories), **kwargs)

    return _make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for(make_user):
    """An API client logged in (by token) as a fresh user with the given roles."""

    def _client(*roles: str, **kwargs):
        user = make_user(*roles, **kwargs)
        client = APIClient()
        client.force_authenticate(user=user)
        client.user = user
        return client

    return _client


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium with the flags these machines need (Playwright's download fails here)."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
        ],
    }
