"""``GET /health/``: for load balancers, compose and people (docs/governance.md, "Operations").

The database, the audit anchor and, with ``REDIS_URL`` set, Redis and a live
Celery worker (ping). 200 when all pass, 500 otherwise. ``?format=json`` (or an
``Accept: application/json``) answers machines with the check names and their
precise messages; a browser gets a page in the product's layout that says in
plain words what each check means and whether it passes. No login: it reveals
only which checks pass.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from audit.health import AuditAnchor
from core.replica import ReplicaLag
from core.replica import configured as replica_configured

# Check class name -> (what it is called on the page, what passing means).
CHECK_WORDS = {
    "Database": ("Database", "The app can read and write its data."),
    "AuditAnchor": (
        "Audit trail",
        "Every change can be recorded: the audit trail's safeguard file can be written and "
        "matches this database.",
    ),
    "ReplicaLag": (
        "Read copy of the database",
        "The read-only copy answers and is close enough behind the main database.",
    ),
    "Redis": ("Task queue", "Background work (recomputes, syncs, imports) can be queued."),
    "Ping": ("Background worker", "A worker is running and picks up queued work."),
}
# The library's failure kinds (HealthCheckException.message_type) in words.
PROBLEM_WORDS = {
    "Unavailable": "Not working",
    "Warning": "Working, with a warning",
    "Unexpected Result": "Answered something unexpected",
    "Unknown Error": "Failed for an unknown reason",
}


def _checks() -> list:
    checks: list = ["health_check.checks.Database", AuditAnchor]
    if replica_configured() and settings.REPLICA_READS_ENABLED:
        checks.append(ReplicaLag)
    if settings.REDIS_URL:
        url = settings.REDIS_URL
        checks.append(
            (
                "health_check.contrib.redis.Redis",
                {"client_factory": lambda: RedisClient.from_url(url, socket_connect_timeout=2)},
            )
        )
        checks.append(
            ("health_check.contrib.celery.Ping", {"timeout": datetime.timedelta(seconds=2)})
        )
    return checks


def check_row(result) -> dict:
    """One check as the page shows it: its name and meaning in words, passing or the problem."""
    name = type(result.check).__name__
    label, meaning = CHECK_WORDS.get(name, (name, ""))
    error = result.error
    return {
        "label": label,
        "meaning": meaning,
        "ok": error is None,
        "problem": PROBLEM_WORDS.get(getattr(error, "message_type", ""), "Not working")
        if error
        else "",
        "detail": getattr(error, "message", str(error)) if error else "",
        "milliseconds": round(result.time_taken * 1000),
    }


class HealthView(HealthCheckView):
    # The product's layout; the template is rendered after the view returns (Django
    # renders a TemplateResponse of an async view in a thread), so the page's user
    # and navigation may read the database.
    template_name = "health.html"

    def get_checks(self):
        self.checks = _checks()
        return super().get_checks()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = [check_row(result) for result in self.results]
        return context
