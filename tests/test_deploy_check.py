"""``manage.py check --deploy`` is clean with production settings (README checklist)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _production_env(tmp_path, **changes) -> dict:
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(60),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(60),
        "DESTINATION_SECRET_KEY": Fernet.generate_key().decode(),
        "DEBUG": "0",
        "HTTPS_ONLY": "1",
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        **changes,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by conftest for browser tests
    return env


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_deploy_check_passes_with_production_environment(tmp_path):
    env = _production_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings")
    env.pop("REDIS_URL", None)
    result = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "AUDIT_HMAC_KEY", "DESTINATION_SECRET_KEY"])
def test_refuses_to_start_with_debug_off_and_no_key(tmp_path, missing):
    env = _production_env(tmp_path)
    env.pop(missing)
    result = _manage(env, "check")
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_refuses_to_start_with_a_destination_key_that_is_not_a_fernet_key(tmp_path):
    result = _manage(_production_env(tmp_path, DESTINATION_SECRET_KEY="not-a-fernet-key"), "check")
    assert result.returncode != 0
    assert "DESTINATION_SECRET_KEY must list Fernet keys" in result.stderr
