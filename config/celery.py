"""Celery application.

Without ``REDIS_URL`` tasks run eagerly in-process (``make demo``, the default
test run); with it, ``celery -A config worker`` and ``celery -A config beat``
do the work.

The recompute outbox (``segmentation.outbox``) is drained as soon as the
broker is reachable: each time a worker's consumer connects or reconnects
(``DrainOutboxOnConnect``) and when beat starts, besides beat's minute tick
(docs/governance.md, "Operations").
"""

import os

from celery import Celery, bootsteps
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class DrainOutboxOnConnect(bootsteps.StartStopStep):
    """Started after the consumer's task step, on every (re)connection to the broker."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent) -> None:
        from segmentation.tasks import drain_outbox

        drain_outbox(reason="worker connected to the broker")


app.steps["consumer"].add(DrainOutboxOnConnect)


@beat_init.connect(dispatch_uid="config.drain_outbox_on_beat_start")
def _drain_outbox_on_beat_start(**kwargs) -> None:
    from segmentation.tasks import drain_outbox

    drain_outbox(reason="beat started")
