"""Celery application.

Without ``REDIS_URL`` tasks run eagerly in-process (``make demo``, the default
test run); with it, ``celery -A config worker`` and ``celery -A config beat``
do the work.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
