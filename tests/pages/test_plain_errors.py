"""Errors in plain words naming the field, all at once; the API keeps precise messages."""

from __future__ import annotations

import json

import pytest

from core.errors import ErrorDetail
from core.plain_errors import plain_error
from segmentation.models import Segment

from .test_defects import _segment_post

pytestmark = pytest.mark.django_db

BAD_RULE = {"field": "decile", "op": "gte", "value": "seven"}


def test_new_segment_shows_every_problem_at_once(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/new/",
        _segment_post(key="Bad Key!", name="", entry_rule=json.dumps(BAD_RULE)),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "must use only lower-case letters" in html  # the key
    assert "This field is required" in html  # the name
    assert 'data-testid="rule-problems"' in html  # the rule, in the same answer
    assert "^[a-z0-9]" not in html


def test_long_key_is_refused_never_cut(world, page_client):
    client = page_client(world.users.author)
    form = client.get("/segments/new/").content.decode()
    assert 'name="key" maxlength' not in form and 'maxlength="64"' not in form
    long_key = "k" * 70
    response = client.post("/segments/new/", _segment_post(key=long_key))
    assert response.status_code == 400
    assert "is 70 characters long; at most 64" in response.content.decode()
    assert not Segment.objects.filter(key__startswith="kkkk").exists()


def test_api_keeps_the_precise_message(client_for):
    client = client_for("brand")
    response = client.post(
        "/api/v1/segments/",
        {"key": "Bad Key!", "name": "x", "purpose": "promotional", "entry_rule": BAD_RULE},
        format="json",
    )
    assert response.status_code == 400
    messages = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert messages["key"].startswith("must match ^[a-z0-9]")


@pytest.mark.parametrize(
    ("path", "message", "label", "words"),
    [
        (
            "key",
            "must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, ...)",
            "Key",
            "must use only lower-case letters",
        ),
        (
            "entry_rule.all[0].value",
            "expected a number, got string",
            "Entry_rule.all[0].value",
            "should be a number, not text.",
        ),
        (
            "asset",
            "guard 3: asset A intent 'medical_education' does not fit",
            "Asset",
            "Purpose check: asset A intent “medical education”",
        ),
        (
            "destination",
            "segment cardio has no approved content mapping whose asset lists the channel 'email'",
            "Destination",
            "no approved content for the email channel",
        ),
    ],
)
def test_messages_read_as_words(path, message, label, words):
    item = plain_error(ErrorDetail(path, message))
    assert item.path.lower().startswith(label.lower()[:5]) and words in item.message
