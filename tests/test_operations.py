"""Operations (docs/governance.md, "Operations"): health endpoint, JSON logs with
request ids and no passwords, API docs served offline and behind login."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from pythonjsonlogger.json import JsonFormatter

from core.logging import ContextFilter, request_id_var
from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_anchor(client):
    response = client.get("/health/?format=json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert any("Database" in name for name in body)
    assert any("AuditAnchor" in name for name in body)


def test_health_fails_when_the_anchor_cannot_be_written(client, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.AUDIT_ANCHOR_DIR = blocker / "sub"
    assert client.get("/health/?format=json").status_code == 500


def test_schema_and_docs_need_a_login(client, make_user):
    assert client.get("/api/schema/").status_code in (401, 403)
    make_user("brand", username="docs")
    logged_in = Client()
    response = logged_in.post(
        "/accounts/login/", {"username": "docs", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert logged_in.get("/api/schema/").status_code == 200
    page = logged_in.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


def test_every_answer_carries_a_request_id(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(Client().get("/accounts/login/")["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id_and_mask_passwords():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.password = "hunter2"
    token = request_id_var.set("req-1")
    try:
        ContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = JsonFormatter("%(message)s %(request_id)s %(task_id)s").format(record)
    data = json.loads(line)
    assert data["request_id"] == "req-1" and data["message"] == "hello"
    assert "hunter2" not in line


def test_beat_runs_the_audit_verification_and_the_outbox(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "audit.tasks.verify_audit_log",
        "segmentation.tasks.dispatch_recompute_requests",
    } <= tasks


def test_queues_and_limits(settings):
    assert settings.CELERY_TASK_ROUTES["segmentation.tasks.*"]["queue"] == "recompute"
    assert settings.CELERY_TASK_ROUTES["content.tasks.*"]["queue"] == "compliance"
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > (
        settings.CELERY_TASK_TIME_LIMIT
    )


def test_health_page_for_people_uses_the_layout_and_plain_words(client):
    response = client.get("/health/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Segment governance" in html  # the product's layout
    assert "System health" in html and "Everything is working" in html
    assert "Audit trail" in html and "Database" in html
    assert "AuditAnchor" not in html and "alias=" not in html


def test_health_page_names_a_failing_check_in_words(client, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.AUDIT_ANCHOR_DIR = blocker / "sub"
    response = client.get("/health/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something needs attention" in html
    assert "not working" in html and "audit anchor directory cannot be created" in html


def test_health_page_for_a_signed_in_person_shows_the_navigation(client, make_user):
    make_user("compliance", username="healthy")
    client.post("/accounts/login/", {"username": "healthy", "password": DEFAULT_PASSWORD})
    response = client.get("/health/")
    assert response.status_code == 200
    assert "Sign out" in response.content.decode()


def test_health_json_for_machines_keeps_the_check_names(client):
    response = client.get("/health/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert any("AuditAnchor" in name for name in response.json())
