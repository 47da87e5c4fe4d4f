"""What the pages do with input, checked through Django's test client against the spec."""

from __future__ import annotations

import csv
import io
import json
from html import unescape

from audit.models import AuditEvent
from governance.models import Signature
from segmentation.models import Segment, SegmentVersion
from tests.pages.conftest import CARDIOLOGY, PASSWORD


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


def test_new_segment_page_creates_draft_version_1(world, page_client):
    response = page_client(world.users.author).post("/segments/new/", _segment_post())
    assert response.status_code == 302
    assert response["Location"] == "/segments/hf-cardio/"
    version = SegmentVersion.objects.get(segment__key="hf-cardio")
    assert (version.number, version.state) == (1, "draft")
    assert version.entry_rule == CARDIOLOGY


def test_new_segment_with_bad_rule_shows_error_path_and_saves_nothing(world, page_client):
    bad = {"all": [CARDIOLOGY, {"field": "specialty", "op": "equals", "value": "x"}]}
    response = page_client(world.users.author).post(
        "/segments/new/", _segment_post(entry_rule=json.dumps(bad))
    )
    assert response.status_code == 400
    assert "entry_rule.all[1].op" in response.content.decode()
    assert not Segment.objects.filter(key="hf-cardio").exists()


def test_new_segment_with_broken_json_is_a_form_error(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/new/", _segment_post(entry_rule="{not json")
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()


def test_preview_fragment_counts_matching_customers(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/preview/",
        {"entry_rule": json.dumps(CARDIOLOGY), "exit_rule": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'data-testid="preview-count">4<' in response.content.decode()


def test_preview_fragment_names_the_offending_node(world, page_client):
    rule = {"all": [CARDIOLOGY, {"field": "decile", "op": "gte", "value": "high"}]}
    response = page_client(world.users.author).post(
        "/segments/preview/", {"entry_rule": json.dumps(rule)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "entry_rule.all[1]" in response.content.decode()


def test_preview_refused_to_field_lead(world, page_client):
    response = page_client(world.users.field).post(
        "/segments/preview/", {"entry_rule": json.dumps(CARDIOLOGY)}
    )
    assert response.status_code == 403


def test_read_only_role_cannot_save_a_segment(world, page_client):
    before = world.draft.content_hash
    response = page_client(world.users.compliance).post(
        "/segments/draft-seg/", _segment_post(name="Changed")
    )
    assert response.status_code == 403
    world.draft.refresh_from_db()
    assert world.draft.content_hash == before


def test_editing_an_active_segment_opens_a_new_draft_and_shows_the_diff(world, page_client):
    client = page_client(world.users.author)
    response = client.post("/segments/cardio/", _segment_post(name="Cardiologists, renamed"))
    assert response.status_code == 302
    versions = dict(Segment.objects.get(key="cardio").versions.values_list("number", "state"))
    assert versions == {1: "active", 2: "draft"}
    html = unescape(client.get("/segments/cardio/?diff=2").content.decode())
    assert '-  "name": "Cardiologists",' in html
    assert '+  "name": "Cardiologists, renamed",' in html


def test_submit_button_puts_the_draft_in_review(world, page_client):
    response = page_client(world.users.author).post("/segments/draft-seg/submit/")
    assert response.status_code == 302
    world.draft.refresh_from_db()
    assert world.draft.state == "in_review"


def test_sign_with_wrong_password_signs_nothing(world, page_client):
    response = page_client(world.users.medical).post(
        "/reviews/endo/v1/",
        {"team": "medical", "decision": "approve", "comment": "", "password": "nope"},
    )
    assert response.status_code == 403
    assert not Signature.objects.filter(version=world.in_review).exists()


def test_author_cannot_sign_own_version_from_the_page(world, make_user, page_client):
    response = page_client(world.users.author).post(
        "/reviews/endo/v1/",
        {"team": "brand", "decision": "approve", "comment": "", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert "separation of duties" in response.content.decode()
    assert not Signature.objects.filter(version=world.in_review).exists()


def test_review_queue_lists_versions_awaiting_the_users_team(world, page_client):
    html = page_client(world.users.access).get("/reviews/").content.decode()
    assert "Endocrinologists" in html
    assert "Cardiologists" not in html  # active, not in review


def test_review_detail_reads_rules_as_english(world, page_client):
    html = page_client(world.users.access).get("/reviews/endo/v1/").content.decode()
    assert "specialty is endocrinology" in html


def test_audit_csv_export_is_filtered(world, page_client):
    response = page_client(world.users.compliance).get("/audit/?format=csv&object=segment:cardio")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows
    assert {(r["object_type"], r["object_id"]) for r in rows} == {("segment", "cardio")}
    assert len(rows) == AuditEvent.objects.filter(object_type="segment", object_id="cardio").count()


def test_audit_page_shows_a_bad_date_as_an_error(world, page_client):
    response = page_client(world.users.compliance).get("/audit/?since=yesterday")
    assert response.status_code == 400
    assert "since" in response.content.decode()


def test_email_export_leaves_out_opted_out_customers(world, page_client):
    client = page_client(world.users.field)
    response = client.get("/territories/T001/export.csv?segment=cardio&channel=email")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    npis = {r["npi"] for r in rows}
    assert npis == {world.customers[0].npi, world.customers[1].npi}


def test_export_of_a_segment_that_is_not_active_is_refused(world, page_client):
    response = page_client(world.users.field).get("/territories/T001/export.csv?segment=endo")
    assert response.status_code == 400


def test_content_page_highlights_assets_expiring_within_30_days(world, page_client):
    html = page_client(world.users.compliance).get("/content/").content.decode()
    assert '<tr class="highlight">' in html
    assert "US-CARD-0042" in html


def test_user_text_is_escaped(world, page_client):
    page_client(world.users.author).post(
        "/segments/new/", _segment_post(key="xss", name="<script>alert(1)</script>")
    )
    html = page_client(world.users.author).get("/segments/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_segment_list_sorts_by_size(world, page_client):
    html = page_client(world.users.author).get("/segments/?sort=-size").content.decode()
    assert html.index(">cardio<") < html.index(">draft-seg<")


def test_dashboard_shows_overlap_of_active_segments(world, page_client):
    html = page_client(world.users.author).get("/dashboard/").content.decode()
    assert "Overlap of active segments" in html
    assert "<strong>4</strong>" in html  # cardio's own size on the diagonal


def test_brand_proposes_a_mapping_from_the_content_page(world, page_client):
    from content.models import ContentAsset, ContentMapping

    ContentAsset.objects.create(
        code="US-CARD-0043",
        title="Second guide",
        audience="hcp",
        intent="promotional",
        indications=["heart_failure"],
        mlr_status="approved",
        expires_at=world.asset.expires_at,
    )
    response = page_client(world.users.author).post(
        "/content/propose-mapping/",
        {"asset": "US-CARD-0043", "segment": "cardio", "rationale": "HF prescribers"},
    )
    assert response.status_code == 302
    assert ContentMapping.objects.get(asset__code="US-CARD-0043").state == "proposed"


def test_off_label_proposal_is_refused_with_the_guard_named(world, page_client):
    from content.models import ContentAsset, ContentMapping

    ContentAsset.objects.create(
        code="US-CARD-0099",
        title="Off-label piece",
        audience="hcp",
        intent="promotional",
        indications=["angina"],
        mlr_status="approved",
        expires_at=world.asset.expires_at,
    )
    response = page_client(world.users.author).post(
        "/content/propose-mapping/",
        {"asset": "US-CARD-0099", "segment": "cardio", "rationale": "why not"},
    )
    assert response.status_code == 400
    assert "off-label" in response.content.decode()
    assert not ContentMapping.objects.filter(asset__code="US-CARD-0099").exists()


def test_compliance_cannot_propose_mappings(world, page_client):
    response = page_client(world.users.compliance).post(
        "/content/propose-mapping/",
        {"asset": "US-CARD-0042", "segment": "cardio", "rationale": "x"},
    )
    assert response.status_code == 403


def test_retire_button_retires_the_active_version(world, page_client):
    response = page_client(world.users.author).post(
        "/segments/cardio/retire/", {"reason": "brand withdrawn"}
    )
    assert response.status_code == 302
    world.active.refresh_from_db()
    assert world.active.state == "retired"


def test_review_overlap_fragment_counts_shared_members(world, page_client):
    html = page_client(world.users.access).get("/reviews/endo/v1/overlap/").content.decode()
    # endo (endocrinologists) shares nobody with cardio (cardiologists).
    assert '<td>cardio</td><td class="num">4</td><td class="num">0</td>' in html


def test_unknown_territory_for_admin_is_a_404_page(world, page_client):
    response = page_client(world.users.admin).get("/territories/T999/")
    assert response.status_code == 404
    assert "no territory T999" in response.content.decode()


def test_taken_key_is_reported_next_to_the_key_field(world, page_client):
    response = page_client(world.users.author).post("/segments/new/", _segment_post(key="cardio"))
    assert response.status_code == 400
    html = response.content.decode()
    key_field = html[html.index('id="id_key"') :]
    assert key_field.index("already exists") < key_field.index('id="id_name"')
