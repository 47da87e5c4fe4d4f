"""The load test's scenario (bench/locustfile.py) runs against the product without an error.

The bench measures it at 1M customers (bench/README.md, "Load"); this test keeps
the scenario itself working as pages change: every simulated person signs in,
opens their pages and gets no error, and the API client's file is written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from knox.models import AuthToken

from accounts.models import Territory
from customers.models import Interaction
from segmentation.services import recompute_version
from tests.factories.accounts import DEFAULT_PASSWORD
from tests.factories.customers import CustomerFactory
from tests.governance.support import active_segment

pytestmark = pytest.mark.django_db(transaction=True)

LOCUSTFILE = Path(__file__).resolve().parent.parent / "bench" / "locustfile.py"


def _config(tmp_path, make_user) -> Path:
    Territory.objects.create(code="T-MA")
    customers = CustomerFactory.create_batch(5, state="MA", territory_id="T-MA")
    version = active_segment(make_user, "cardio")
    recompute_version(version=version)
    make_user("brand", username="load-brand-1")
    make_user("access", username="load-reviewer-1")
    make_user("field_lead", username="load-field-lead-1", territories=["T-MA"])
    _, token = AuthToken.objects.create(user=make_user("brand", username="load-feed"))
    feed = tmp_path / "interactions.csv"
    feed.write_text(
        "npi,occurred_at,channel,kind,topic,asset,external_id\n"
        + "".join(
            f"{c.npi},2026-11-0{i + 1}T09:00:00Z,email,opened,efficacy,,LOAD-{i}\n"
            for i, c in enumerate(customers[:3])
        )
    )
    config = {
        "password": DEFAULT_PASSWORD,
        "users": {
            "brand": ["load-brand-1"],
            "reviewer": ["load-reviewer-1"],
            "field_lead": ["load-field-lead-1"],
        },
        "territory_of": {"load-field-lead-1": "T-MA"},
        "segments": [{"key": "cardio", "version": version.number}],
        "states": ["MA", "NY", "CA", "TX"],
        "api_token": token,
        "interactions_file": str(feed),
        "once": 4,  # the four people below: each opens each page once, then the run ends
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_every_simulated_person_works_without_an_error(live_server, make_user, tmp_path):
    config = _config(tmp_path, make_user)
    locust = Path(sys.executable).parent / "locust"
    finished = subprocess.run(
        [str(locust), "-f", str(LOCUSTFILE), "--headless", "--users", "4", "--spawn-rate", "4",
         "--run-time", "600s", "--host", live_server.url, "--json", "--only-summary",
         "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        env={"LOAD_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(finished.stdout)}
    expected = {
        "login page", "sign in", "segment page", "rule preview", "review list", "review page",
        "territory list", "territory export", "API import (interactions)",
    }  # fmt: skip
    assert expected <= set(rows), finished.stderr[-3000:]
    failed = {name: row["num_failures"] for name, row in rows.items() if row["num_failures"]}
    assert failed == {}, finished.stderr[-3000:]
    assert Interaction.objects.filter(external_id__startswith="LOAD-").count() == 3
