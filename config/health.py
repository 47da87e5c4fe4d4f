"""``GET /health/``: for load balancers and compose (docs/governance.md, "Operations").

The database, the audit anchor and, with ``REDIS_URL`` set, Redis and a live
Celery worker (ping). 200 when all pass, 500 otherwise; ``?format=json`` for
machines. No login: it reveals only which checks pass.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from audit.health import AuditAnchor
from core.replica import ReplicaLag
from core.replica import configured as replica_configured


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


class HealthView(HealthCheckView):
    def get_checks(self):
        self.checks = _checks()
        return super().get_checks()
