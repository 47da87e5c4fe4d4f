"""docker-compose.yml and the Dockerfile describe the production stack (docs/api.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command(service: dict) -> str:
    value = service["command"]
    return " ".join(value) if isinstance(value, list) else value


APP_SERVICES = ["web", "worker", "worker-compliance", "beat"]


def test_stack_has_migrate_web_workers_beat_postgres_and_redis(compose):
    assert set(compose["services"]) == {
        "migrate", "web", "worker", "worker-compliance", "beat", "postgres", "postgres-replica",
        "redis",
    }  # fmt: skip


def test_the_replica_is_a_streaming_standby_of_the_primary(compose):
    replica = compose["services"]["postgres-replica"]
    text = command(replica)
    assert "pg_basebackup -h postgres" in text and " -R " in text
    assert "hot_standby=on" in text
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    web_env = compose["services"]["web"]["environment"]
    assert "@postgres-replica:5432/app" in web_env["DATABASE_REPLICA_URL"]


def test_migrations_run_once_as_the_owner_and_web_only_serves(compose):
    migrate = compose["services"]["migrate"]
    text = command(migrate)
    assert "manage.py migrate" in text and "grant_app_role --role app" in text
    assert text.index("migrate") < text.index("grant_app_role")
    assert "//app_owner:" in migrate["environment"]["DATABASE_URL"]
    assert migrate["restart"] == "no"
    web = command(compose["services"]["web"])
    assert "gunicorn config.wsgi" in web and "migrate" not in web


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_the_migrate_job(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_workers_split_recompute_and_compliance_queues(compose):
    assert "-Q recompute" in command(compose["services"]["worker"])
    assert "-Q compliance" in command(compose["services"]["worker-compliance"])


def test_worker_and_beat_run_celery(compose):
    assert "celery -A config worker" in command(compose["services"]["worker"])
    assert "celery -A config beat" in command(compose["services"]["beat"])


def test_databases_are_postgres_and_redis_images(compose):
    image = compose["services"]["postgres"]["image"]
    assert image.split(":")[0] == "postgres" and image.split(":")[1].split(".")[0] in {"15", "16"}
    assert compose["services"]["redis"]["image"].startswith("redis")


@pytest.mark.parametrize("name", [*APP_SERVICES, "postgres", "redis"])
def test_every_service_has_a_health_check(compose, name):
    healthcheck = compose["services"][name]["healthcheck"]
    assert healthcheck["test"]
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(compose, name):
    depends_on = compose["services"][name]["depends_on"]
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["postgres"]["condition"] == "service_healthy"


def test_data_lives_in_named_volumes(compose):
    declared = set(compose["volumes"])
    assert {"pgdata", "redisdata"} <= declared
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        volumes = compose["services"][name]["volumes"]
        assert any(v.split(":")[0] in declared and v.split(":")[1] == mount for v in volumes)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_from_the_environment(compose, name):
    env = compose["services"][name]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://app:")  # the restricted role
    assert env["AUDIT_HMAC_KEY"].startswith("${AUDIT_HMAC_KEY:?")
    assert env["DESTINATION_SECRET_KEY"].startswith("${DESTINATION_SECRET_KEY:?")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, never defaulted
    assert str(env["DEBUG"]) == "0"
    assert "ALLOWED_HOSTS" in env


def test_dockerfile_builds_the_app_image():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "requirements.lock" in text
    assert "collectstatic" in text
    assert "gunicorn" in text
    assert "USER app" in text


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".env"} <= set(ignored)


def test_the_workers_together_serve_every_declared_queue(compose):
    from django.conf import settings

    served: set[str] = set()
    for name in ("worker", "worker-compliance"):
        words = command(compose["services"][name]).split()
        served |= set(words[words.index("-Q") + 1].split(","))
    assert served == {queue.name for queue in settings.CELERY_TASK_QUEUES}
