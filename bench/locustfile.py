"""The load test's people (Locust), started by ``bench/bench_load.py``.

Four kinds of user work at once, as on a Monday morning during a national
recompute (bench/README.md, "Load"):

- brand managers open a segment and edit its rule with live previews (the
  preview the rule builder posts on every change);
- reviewers open the review list and a version's review page;
- field leads open their territory's list of a segment and export it;
- one API client imports a file of interactions and polls it until written.

``LOAD_CONFIG`` names the JSON file ``bench_load.py`` writes: the host's users
(one per simulated person, all with the same bench password), the segment
keys and versions, the territories and the interactions file. Every request
is named by what it is, not its URL, so the report reads per page.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from locust import HttpUser, between, constant, task
from locust.exception import StopUser

CONFIG = json.loads(Path(os.environ["LOAD_CONFIG"]).read_text())
_counters = {role: itertools.count() for role in CONFIG["users"]}
# People think between clicks. The project's own test sets "once" to the number of
# people: each opens every page of theirs once, and the last one done ends the run.
ONCE = CONFIG.get("once", 0)
THINK = constant(0) if ONCE else between(1, 3)
_done = itertools.count(1)


def _finish(user: HttpUser) -> None:
    if next(_done) >= ONCE:
        user.environment.runner.quit()
    raise StopUser()


class _SignedIn(HttpUser):
    """Signs in through the login form, as a person does; CSRF from the cookie."""

    abstract = True
    role = ""
    wait_time = THINK

    def on_start(self) -> None:
        names = CONFIG["users"][self.role]
        self.username = names[next(_counters[self.role]) % len(names)]
        self.client.get("/accounts/login/", name="login page")
        response = self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": CONFIG["password"],
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            headers={"Referer": self.host + "/accounts/login/"},
            name="sign in",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: {response.status_code}")
        if ONCE:
            for name in self.pages:
                getattr(self, name)()
            _finish(self)

    def csrf_headers(self, page: str) -> dict:
        return {
            "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
            "Referer": self.host + page,
            "HX-Request": "true",
        }


class BrandManager(_SignedIn):
    role = "brand"
    weight = 20
    pages = ("open_segment", "preview_a_rule")

    @task(1)
    def open_segment(self) -> None:
        key = random.choice(CONFIG["segments"])["key"]
        self.client.get(f"/segments/{key}/", name="segment page")

    @task(3)
    def preview_a_rule(self) -> None:
        # A rule as the builder sends it while someone edits: a decile cut in
        # a few states, the cut and the states moving as they type.
        rule = {
            "all": [
                {"field": "decile", "op": "gte", "value": random.randint(3, 9)},
                {"field": "state", "op": "in", "value": random.sample(CONFIG["states"], 3)},
            ]
        }
        if random.random() < 0.5:
            rule["all"].append(
                {"event": {"channel": random.choice(["email", "rep_visit", "webinar"])},
                 "within_days": random.choice([30, 90, 180]), "count": {"op": "gte", "value": 1}}
            )  # fmt: skip
        self.client.post(
            "/segments/preview/",
            data={"entry_rule": json.dumps(rule), "exit_rule": ""},
            headers=self.csrf_headers("/segments/new/"),
            name="rule preview",
        )


class Reviewer(_SignedIn):
    role = "reviewer"
    weight = 12
    pages = ("review_list", "review_page")

    @task(1)
    def review_list(self) -> None:
        self.client.get("/reviews/", name="review list")

    @task(3)
    def review_page(self) -> None:
        segment = random.choice(CONFIG["segments"])
        self.client.get(f"/reviews/{segment['key']}/v{segment['version']}/", name="review page")


class FieldLead(_SignedIn):
    role = "field_lead"
    weight = 15
    pages = ("territory_list", "territory_export")

    @property
    def territory(self) -> str:
        return CONFIG["territory_of"][self.username]

    @task(3)
    def territory_list(self) -> None:
        key = random.choice(CONFIG["segments"])["key"]
        self.client.get(f"/territories/{self.territory}/?segment={key}", name="territory list")

    @task(1)
    def territory_export(self) -> None:
        key = random.choice(CONFIG["segments"])["key"]
        self.client.get(
            f"/territories/{self.territory}/export.csv?segment={key}", name="territory export"
        )


class InteractionFeed(HttpUser):
    """The nightly feed: one file of interactions through the API, polled until written."""

    fixed_count = 1
    wait_time = between(5, 10)

    def on_start(self) -> None:
        self.done = not CONFIG.get("interactions_file")
        if ONCE:
            self.import_interactions()
            _finish(self)

    @task
    def import_interactions(self) -> None:
        if self.done:
            return
        self.done = True
        headers = {"Authorization": f"Token {CONFIG['api_token']}"}
        path = Path(CONFIG["interactions_file"])
        with path.open("rb") as fh:
            response = self.client.post(
                "/api/v1/imports/",
                data={"kind": "interactions"},
                files={"file": (path.name, fh, "text/csv")},
                headers=headers,
                name="API import (interactions)",
            )
        if response.status_code != 202:
            return  # written in the request (201) or refused: the report shows which
        status_url = response.json()["status_url"]
        while True:
            time.sleep(2)
            state = self.client.get(status_url, headers=headers, name="API import status").json()
            if state.get("state") in {"succeeded", "failed"}:
                CONFIG["import_state"] = state.get("state")
                return
