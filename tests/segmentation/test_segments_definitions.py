"""Creating and editing segment definitions: validation, versions, hashes, cycles."""

from __future__ import annotations

import hashlib
import json

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, PermissionRefused, ValidationFailed
from segmentation import services
from segmentation.models import SegmentVersion

from .segments_support import ALWAYS, EXAMPLE_ENTRY, EXAMPLE_EXIT, activate, make_segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def paths(exc: ValidationFailed) -> list[str]:
    return [e.path for e in exc.errors]


def test_create_opens_draft_version_one(brand):
    version = make_segment(brand, "cardio-hcps", EXAMPLE_ENTRY, EXAMPLE_EXIT)
    assert (version.number, version.state, version.author) == (1, "draft", brand)
    assert version.entry_rule == EXAMPLE_ENTRY
    assert version.exit_rule == EXAMPLE_EXIT


def test_content_hash_is_sha256_of_canonical_content(brand):
    version = make_segment(
        brand, "hashed", ALWAYS, indications=["heart_failure"], therapy_area="cv"
    )
    body = {
        "name": "Hashed",
        "description": "",
        "purpose": "promotional",
        "therapy_area": "cv",
        "indications": ["heart_failure"],
        "parent": None,
        "entry_rule": ALWAYS,
        "exit_rule": None,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert version.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_create_records_an_audit_event(brand):
    make_segment(brand, "audited", ALWAYS)
    event = AuditEvent.objects.get(action="segment.created")
    assert (event.object_id, event.actor) == ("audited", brand)


@pytest.mark.parametrize("key", ["", "Upper", "-leading", "has space", "x" * 65, "a.b"])
def test_key_must_match_the_pattern(brand, key):
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, key, ALWAYS)
    assert "key" in paths(err.value)


def test_key_must_be_unique(brand):
    make_segment(brand, "taken", ALWAYS)
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "taken", ALWAYS)
    assert paths(err.value) == ["key"]


def test_purpose_outside_vocabulary_names_purpose(brand):
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "bad-purpose", ALWAYS, purpose="sales")
    assert paths(err.value) == ["purpose"]


def test_rule_errors_name_json_paths_in_both_rules(brand):
    entry = {"all": [{"field": "specialty", "op": "equals", "value": "cardiology"}]}
    exit_rule = {"field": "nonsense", "op": "eq", "value": 1}
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "bad-rules", entry, exit_rule)
    found = paths(err.value)
    assert any(p.startswith("entry_rule.all[0]") for p in found)
    assert any(p.startswith("exit_rule") for p in found)


def test_unknown_parent_is_refused(brand):
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "orphan", ALWAYS, parent="nope")
    assert paths(err.value) == ["parent"]


def test_missing_entry_rule_is_refused(brand):
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "no-entry", None)
    assert "entry_rule" in paths(err.value)


def test_self_reference_is_a_cycle(brand):
    with pytest.raises(ValidationFailed) as err:
        make_segment(brand, "selfish", {"segment": "selfish"})
    assert paths(err.value) == ["entry_rule"]


def test_reference_cycle_is_refused_on_update(brand):
    a = make_segment(brand, "a", ALWAYS)
    make_segment(brand, "b", {"segment": "a"})
    with pytest.raises(ValidationFailed) as err:
        services.segment_update(user=brand, segment=a.segment, entry_rule={"segment": "b"})
    assert paths(err.value) == ["entry_rule"]
    assert "cycle" in err.value.errors[0].message


def test_parent_cycle_is_refused(brand):
    a = make_segment(brand, "pa", ALWAYS)
    make_segment(brand, "pb", ALWAYS, parent="pa")
    with pytest.raises(ValidationFailed) as err:
        services.segment_update(user=brand, segment=a.segment, parent="pb")
    assert paths(err.value) == ["parent"]


def test_cycle_through_exit_rule_and_parent(brand):
    a = make_segment(brand, "ca", ALWAYS)
    make_segment(brand, "cb", ALWAYS, parent="ca")
    make_segment(brand, "cc", ALWAYS, exit_rule={"segment": "cb"})
    with pytest.raises(ValidationFailed) as err:
        services.segment_update(user=brand, segment=a.segment, exit_rule={"segment": "cc"})
    assert paths(err.value) == ["exit_rule"]


def test_update_edits_the_draft_in_place(brand):
    version = make_segment(brand, "editable", ALWAYS)
    old_hash = version.content_hash
    edited = services.segment_update(user=brand, segment=version.segment, name="Renamed")
    assert (edited.pk, edited.number, edited.name) == (version.pk, 1, "Renamed")
    assert edited.content_hash != old_hash


def test_update_of_active_opens_a_new_draft(brand):
    version = activate(make_segment(brand, "running", ALWAYS))
    draft = services.segment_update(user=brand, segment=version.segment, description="v2")
    assert (draft.number, draft.state, draft.description) == (2, "draft", "v2")
    assert draft.entry_rule == ALWAYS
    version.refresh_from_db()
    assert (version.state, version.description) == ("active", "")


def test_update_in_review_is_refused(brand):
    version = make_segment(brand, "reviewing", ALWAYS)
    SegmentVersion.objects.filter(pk=version.pk).update(state="in_review")
    with pytest.raises(Conflict, match="only a draft can be edited"):
        services.segment_update(user=brand, segment=version.segment, name="x")


def test_null_exit_rule_and_parent_mean_none(brand):
    make_segment(brand, "base", ALWAYS)
    version = make_segment(brand, "child", ALWAYS, exit_rule=EXAMPLE_EXIT, parent="base")
    edited = services.segment_update(
        user=brand, segment=version.segment, exit_rule=None, parent=None
    )
    assert edited.exit_rule is None and edited.parent is None
    absent = make_segment(brand, "plain", ALWAYS)
    assert absent.content_hash == services.content_hash(
        name=edited.name.replace("Child", "Plain"),
        description="",
        purpose="promotional",
        therapy_area="",
        indications=[],
        parent=None,
        entry_rule=ALWAYS,
        exit_rule=None,
    )


def test_unknown_change_is_refused(brand):
    version = make_segment(brand, "strict", ALWAYS)
    with pytest.raises(ValidationFailed) as err:
        services.segment_update(user=brand, segment=version.segment, state="active")
    assert paths(err.value) == ["state"]


@pytest.mark.parametrize("role", ["field_lead", "compliance", "medical", "access"])
def test_only_brand_and_admin_edit(make_user, role):
    with pytest.raises(PermissionRefused):
        make_segment(make_user(role), "forbidden", ALWAYS)
