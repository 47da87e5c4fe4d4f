"""Structured JSON logs with request, user and task ids (docs/governance.md, "Operations").

``RequestContextMiddleware`` gives every request an id (the ``X-Request-ID``
header when a proxy sets one, else a new UUID), answers with it, and keeps it
and the user's id in context variables; ``ContextFilter`` adds them, and the
running Celery task's id, to every log record, which python-json-logger writes
as one JSON object per line. Passwords never reach a log: django-axes masks
them, and ``ContextFilter`` drops any ``password`` extra.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from celery import current_task

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("user_id", default="")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        record.task_id = _current_task_id()
        if hasattr(record, "password"):
            record.password = "***"
        return True


def _current_task_id() -> str:
    request = getattr(current_task, "request", None)
    return getattr(request, "id", "") or ""


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs a request's 4xx/5xx after the
        # middleware chain has returned; the next request sets its own.
        request_id_var.set(request_id)
        user = getattr(request, "user", None)  # a session user is known already
        authenticated = user is not None and getattr(user, "is_authenticated", False)
        user_id_var.set(str(user.pk) if authenticated else "")
        response = self.get_response(request)
        user = getattr(request, "user", None)  # a token user is known now (DRF sets it)
        if user is not None and getattr(user, "is_authenticated", False):
            user_id_var.set(str(user.pk))
        response["X-Request-ID"] = request_id
        return response
