"""A real OpenID Connect provider for the tests: oidc-provider-mock (PyPI), on loopback.

It serves discovery, its signing keys, the authorization endpoint (a form where
the test picks the user by ``sub``, or denies) and the token endpoint, and
issues RS256-signed ID tokens with the ``nonce`` it was sent. Users' claims
(``groups``, ``territories``, ``name``...) are set with ``PUT /users/{sub}``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import oidc_provider_mock
import requests
import werkzeug.serving


@contextmanager
def running_provider():
    """Start the provider in a thread on a free loopback port; yield its issuer URL."""
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def set_claims(issuer: str, sub: str, **claims) -> None:
    requests.put(f"{issuer}/users/{sub}", json=claims, timeout=10).raise_for_status()


def provider_answer(authorize_url: str, sub: str | None, *, deny: bool = False) -> str:
    """Submit the provider's sign-in form as ``sub`` (or deny); the callback URL it answers."""
    data = {"action": "deny"} if deny else {"sub": sub}
    response = requests.post(authorize_url, data=data, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:500]
    return response.headers["Location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
