"""Numbers with their reasons: a new version's impact split by cause, the active
segment's members against today's matches (hysteresis), the recompute button."""

from __future__ import annotations

import pytest

from customers.models import Customer
from segmentation import services as segments
from segmentation.services import membership_explained, version_impact

from .conftest import CARDIOLOGY

pytestmark = pytest.mark.django_db

NY = {"field": "state", "op": "eq", "value": "NY"}


def _held_member(world) -> Customer:
    """A member who no longer matches the entry rule (no exit rule: kept)."""
    held = world.customers[0]
    Customer.objects.filter(pk=held.pk).update(specialty="oncology")
    return held


def _narrower_draft(world):
    segments.segment_update(
        user=world.users.author,
        segment=world.active.segment,
        entry_rule={"all": [CARDIOLOGY, NY]},
    )
    return world.active.segment.versions.get(number=2)


def test_impact_splits_the_drops_by_cause(world):
    _held_member(world)
    draft = _narrower_draft(world)
    impact = version_impact(user=world.users.author, version=draft, against=world.active)
    assert (impact.current_count, impact.new_count) == (4, 1)
    assert (impact.added, impact.kept) == (0, 1)
    assert impact.dropped == 3
    # Two still match v1's rule today (NJ, CA): the entry rule changed for them.
    assert impact.dropped_rule_changed == 2
    # One stayed in v1 only because nothing removed them: v2 does not carry them over.
    assert impact.dropped_held == 1


def test_review_impact_says_why_each_group_moves(world, page_client):
    _held_member(world)
    draft = _narrower_draft(world)
    html = page_client(world.users.access).get(f"/reviews/cardio/v{draft.number}/impact/")
    html = html.content.decode()
    assert 'data-testid="why-enter"' in html and "0 enter" in html
    assert "2 leave because the entry rule changed" in html
    assert "1 leave because they were staying only until the exit rule removed them" in html
    # The rule behind each group, in words.
    assert "Enters when" in html and "NY" in html and "v1 enters when" in html


def test_active_segment_explains_members_against_matches(world, page_client):
    _held_member(world)
    explained = membership_explained(user=world.users.medical, version=world.active)
    assert (explained.members, explained.matching, explained.held) == (4, 3, 1)
    html = page_client(world.users.medical).get("/segments/cardio/").content.decode()
    assert 'data-testid="membership-why"' in html
    assert "stay until the exit rule removes them" in html


def test_segment_page_reads_top_to_bottom(world, page_client):
    html = page_client(world.users.author).get("/segments/cardio/").content.decode()
    # Plain English first, JSON only on request, the edit form closed until asked.
    assert html.index("Enters when") < html.index('data-testid="rules-json"')
    assert '<details data-testid="rules-json">' in html
    assert '<details class="card edit-panel" data-testid="edit-panel">' in html
    assert "heart failure" in html and "heart_failure" not in html.split("<script")[0]
    opened = page_client(world.users.author).get("/segments/cardio/?edit=1").content.decode()
    assert 'data-testid="edit-panel" open' in opened


def test_recompute_button_recomputes_from_the_page(world, page_client):
    client = page_client(world.users.author)
    html = client.get("/segments/draft-seg/").content.decode()
    assert 'data-testid="recompute-form"' in html and "has no members yet" in html
    response = client.post("/segments/draft-seg/recompute/", {"version": "1"}, follow=True)
    assert "Recomputed v1" in response.content.decode()
    assert world.draft.segment.versions.get(number=1).member_count == 4
    # Reviewers may read but not recompute.
    assert 'data-testid="recompute-form"' not in (
        page_client(world.users.medical).get("/segments/draft-seg/").content.decode()
    )
    assert (
        page_client(world.users.medical).post("/segments/draft-seg/recompute/").status_code == 403
    )


def test_preview_decile_breakdown_is_complete(world):
    from segmentation.services import preview_rule
    from tests.factories import CustomerFactory

    for decile in range(1, 11):
        CustomerFactory(specialty="oncology", decile=decile, territory_id="T002")
    CustomerFactory(specialty="oncology", decile=None, territory_id="T002")
    result = preview_rule(
        user=world.users.author,
        entry_rule={"field": "specialty", "op": "eq", "value": "oncology"},
        exit_rule=None,
    )
    deciles = [label for label, _ in result.breakdown["decile"]]
    assert "10" in deciles and len(deciles) == 11


def test_charts_label_axes_and_survive_a_spike():
    from segmentation import presentation

    assert presentation.nice_ticks(174) == [0, 50, 100, 150, 200]
    rows = [(f"2026-01-{d:02d}", 174 if d == 1 else 3 + d % 4, 1) for d in range(1, 21)]
    svg = str(presentation.bar_chart(rows, label="flow"))
    assert "customers per day" in svg and "day (UTC)" in svg
    assert "tallest bars cut" in svg and ">174<" in svg
    # The other days get a scale they can be read on (ticks up to about 10, not 200).
    assert ">150<" not in svg
    line = str(presentation.line_chart({"cardio": [("2026-01-01", 40), ("2026-01-02", 56)]}))
    assert "members" in line and ">60<" in line
