import pytest

from audit.chain import verify_audit_chain
from audit.services import record_event

from .support import tamper

pytestmark = pytest.mark.django_db


def test_chain_of_untouched_events_verifies(make_user, django_capture_on_commit_callbacks):
    actor = make_user("admin")
    with django_capture_on_commit_callbacks(execute=True):  # the anchor is written on commit
        for i in range(3):
            record_event(actor=actor, action="test.event", object_type="thing", object_id=i)
    result = verify_audit_chain()
    assert result.intact and result.count == 3


def test_one_character_edit_is_named(make_user):
    actor = make_user("admin")
    events = [
        record_event(
            actor=actor,
            action="test.event",
            object_type="thing",
            object_id=i,
            after={"name": "alpha"},
        )
        for i in range(3)
    ]
    tamper("UPDATE governance_auditevent SET object_id = %s WHERE id = %s", ["7", events[1].pk])
    result = verify_audit_chain()
    assert not result.intact
    assert result.first_broken_id == events[1].pk
