"""The reviewer's diff: plain English side by side and the impact on the audience
(docs/pages.md, "Reviewers")."""

from __future__ import annotations

from governance import services as governance
from segmentation import compare
from segmentation import services as segments
from tests.pages.conftest import CARDIOLOGY


def test_compare_marks_added_removed_and_changed_conditions():
    old = {"all": [CARDIOLOGY, {"field": "decile", "op": "gte", "value": 5}]}
    new = {
        "all": [
            CARDIOLOGY,
            {"field": "decile", "op": "gte", "value": 8},
            {"field": "state", "op": "eq", "value": "NY"},
        ]
    }
    result = compare.compare_rules(old, new, labels={})
    assert [c["status"] for c in result["before"]] == ["same", "changed"]
    assert [c["status"] for c in result["after"]] == ["same", "changed", "added"]
    assert (result["added"], result["removed"], result["changed"]) == (1, 0, 1)


def _new_version_in_review(world):
    segment = world.active.segment
    segments.segment_update(
        user=world.users.author,
        segment=segment,
        entry_rule={"all": [CARDIOLOGY, {"field": "state", "op": "eq", "value": "NY"}]},
    )
    version = segment.versions.get(number=2)
    governance.submit_version(user=world.users.author, version=version)
    return version


def test_review_page_reads_the_change_in_plain_english(world, page_client):
    _new_version_in_review(world)
    html = page_client(world.users.access).get("/reviews/cardio/v2/").content.decode()
    assert 'class="cond-added"' in html
    assert "added: </span>" in html
    assert "<summary>JSON diff</summary>" in html
    assert 'hx-get="/reviews/cardio/v2/impact/"' in html


def test_impact_counts_added_and_dropped_by_territory(world, page_client):
    _new_version_in_review(world)
    html = page_client(world.users.access).get("/reviews/cardio/v2/impact/").content.decode()
    # Active v1: 4 cardiologists (3 in T001, 1 in T002); v2 keeps the 2 in NY.
    assert "add 0" in html
    assert "drop 2" in html
    assert "Dropped by territory" in html


def test_json_diff_starts_at_the_top_of_the_document(world, page_client):
    _new_version_in_review(world)
    html = page_client(world.users.access).get("/reviews/cardio/v2/").content.decode()
    diff = html[html.index('<pre class="diff">') :]
    assert diff.split("</span>")[1].strip().endswith('<span class="same"> {')
