"""Browser test helpers shared by the page tests."""

from __future__ import annotations


def quiet(page) -> None:
    """Let the page's own requests finish, then leave it, before this thread writes.

    With SQLite the live server shares the test thread's one connection, so a
    service called from the test while a page request is in flight fails with
    "database table is locked". Call this before such a service call.
    """
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")
