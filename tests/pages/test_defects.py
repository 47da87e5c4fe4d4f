"""The page defects found in review, each checked through Django's test client (docs/governance.md,
docs/rules.md). Each of these failed before the fix."""

from __future__ import annotations

import csv
import io
import json
import re

from django.core.management import call_command

from segmentation.models import RecomputeRun, SegmentVersion
from segmentation.services import recompute_version
from tests.factories import CustomerFactory
from tests.pages.conftest import CARDIOLOGY


def _segment_post(**overrides) -> dict:
    data = {
        "key": "hf-cardio",
        "name": "HF cardiologists",
        "description": "",
        "purpose": "promotional",
        "therapy_area": "cardiology",
        "indications": "heart_failure",
        "parent": "",
        "entry_rule": json.dumps(CARDIOLOGY),
        "exit_rule": "",
    }
    data.update(overrides)
    return data


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")


def test_author_is_not_offered_the_sign_form(world, page_client):
    html = page_client(world.users.author).get("/reviews/endo/v1/").content.decode()
    assert 'id="sign-form"' not in html
    assert 'id="id_password"' not in html
    assert "you cannot sign it" in html


def test_another_signer_is_offered_the_sign_form(world, page_client):
    html = page_client(world.users.access).get("/reviews/endo/v1/").content.decode()
    assert 'id="sign-form"' in html


def test_retiring_from_the_page_without_a_reason_is_refused(world, page_client):
    response = page_client(world.users.author).post("/segments/cardio/retire/", {"reason": "  "})
    assert response.status_code == 400
    assert "say why" in response.content.decode()
    world.active.refresh_from_db()
    assert world.active.state == "active"


def test_rule_error_is_readable_and_shown_once(world, page_client):
    bad = {"all": [{"field": "specialty_typo", "op": "eq", "value": "x"}]}
    response = page_client(world.users.author).post(
        "/segments/new/", _segment_post(entry_rule=json.dumps(bad))
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "/api/v1/fields/" not in html
    # The builder places the message at the offending condition (from its data
    # island); the page repeats it only for readers without JavaScript.
    shown = re.sub(r"<(script|noscript)\b.*?</\1>", "", html, flags=re.S)
    assert "unknown field" not in shown
    assert "Entry rule, condition 1, field: unknown field" in html
    assert "The rules have 1 problem" in html


def test_preview_of_a_bad_rule_does_not_repeat_the_message(world, page_client):
    bad = {"all": [{"field": "specialty_typo", "op": "eq", "value": "x"}]}
    response = page_client(world.users.author).post(
        "/segments/preview/", {"entry_rule": json.dumps(bad)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    html = response.content.decode()
    island, rest = html.split("</script>", 1)
    assert "unknown field" in island and "unknown field" not in rest
    assert "marked in the rule builder" in rest


def test_saving_an_empty_all_group_needs_confirmation(world, page_client):
    client = page_client(world.users.author)
    everyone = json.dumps({"all": []})
    response = client.post("/segments/new/", _segment_post(entry_rule=everyone))
    assert response.status_code == 400
    assert "selects every customer" in response.content.decode()
    assert not SegmentVersion.objects.filter(segment__key="hf-cardio").exists()
    response = client.post("/segments/new/", _segment_post(entry_rule=everyone, confirm_scope="1"))
    assert response.status_code == 302


def test_preview_warns_when_a_rule_selects_everyone(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/preview/", {"entry_rule": json.dumps({"all": []})}, HTTP_HX_REQUEST="true"
    )
    assert "selects every customer" in response.content.decode()


def test_territory_members_on_screen_and_in_csv_share_one_order(world, page_client):
    # Same last name: first name decides; same names: NPI decides.
    for first in ("Zoe", "Adam", "Adam"):
        CustomerFactory(
            specialty="cardiology", territory_id="T001", last_name="Aaronson", first_name=first
        )
    recompute_version(version=world.active)
    client = page_client(world.users.field)
    html = client.get("/territories/T001/?segment=cardio").content.decode()
    export = client.get("/territories/T001/export.csv?segment=cardio")
    body = b"".join(export.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    expected = sorted(rows, key=lambda r: (r["last_name"], r["first_name"], r["npi"]))
    assert [r["npi"] for r in rows] == [r["npi"] for r in expected]
    positions = [html.index(f">{r['npi']}</td>") for r in rows]
    assert positions == sorted(positions)


def test_segment_indications_come_from_the_controlled_list(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/new/", _segment_post(indications="heart_failur")
    )
    assert response.status_code == 400
    assert "is not on the list of indications" in response.content.decode()
    assert not SegmentVersion.objects.filter(segment__key="hf-cardio").exists()


def test_territory_list_counts_members_and_new_this_week(world, page_client):
    html = page_client(world.users.field).get("/territories/").content.decode()
    assert 'data-testid="territory-overview"' in html
    # Active "cardio": three T001 cardiologists, all entered on activation.
    assert "Cardiologists" in html and "<strong>+3</strong>" in html


def test_member_list_shows_entered_date_and_last_interaction(world, page_client):
    html = page_client(world.users.field).get("/territories/T001/?segment=cardio").content.decode()
    assert "Entered" in html and "Last interaction" in html


def test_make_demo_recomputes_active_versions_only(world):
    call_command("recompute_segments", "--active-only", stdout=io.StringIO())
    assert not RecomputeRun.objects.filter(version=world.draft).exists()
    assert RecomputeRun.objects.filter(version=world.active).exists()


def test_preview_breaks_the_size_down_with_bars(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/preview/", {"entry_rule": json.dumps(CARDIOLOGY)}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'data-testid="preview-breakdown"' in html
    assert "By territory" in html and "By specialty" in html and "By decile" in html
    assert '<span>T001</span><span class="bar"><span style="width: 100%"></span></span>' in html


def test_preview_reads_the_rule_in_plain_english(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/preview/", {"entry_rule": json.dumps(CARDIOLOGY)}, HTTP_HX_REQUEST="true"
    )
    assert "<strong>Enters when</strong> specialty is cardiology" in response.content.decode()


def test_saving_a_rule_that_matches_no_one_needs_confirmation(world, page_client):
    nobody = json.dumps({"field": "specialty", "op": "eq", "value": "dermatology"})
    client = page_client(world.users.author)
    response = client.post("/segments/new/", _segment_post(entry_rule=nobody))
    assert response.status_code == 400
    assert "selects no one" in response.content.decode()
    response = client.post("/segments/new/", _segment_post(entry_rule=nobody, confirm_scope="1"))
    assert response.status_code == 302


def test_member_csv_carries_entered_date_and_last_interaction(world, page_client):
    export = page_client(world.users.field).get("/territories/T001/export.csv?segment=cardio")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows and all(r["entered_at"].endswith("Z") for r in rows)
    assert all("last_interaction" in r for r in rows)
