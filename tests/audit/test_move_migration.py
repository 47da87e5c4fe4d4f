"""A database created before AuditEvent moved to the audit app keeps a verifying chain."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.chain import GENESIS_HASH, event_digest, verify_audit_chain
from audit.models import AuditEvent
from audit.services import record_event
from tests.migrations import migrate_to, migrate_to_latest

BEFORE_MOVE = [("governance", "0003_auditevent_append_only_trigger"), ("audit", None)]


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_move_still_verify_after_it():
    old_apps = migrate_to(BEFORE_MOVE)
    OldEvent = old_apps.get_model("governance", "AuditEvent")
    prev = GENESIS_HASH
    for i in range(3):
        fields = {
            "occurred_at": timezone.now(),
            "actor_username": "system",
            "action": "test.before_move",
            "object_type": "thing",
            "object_id": str(i),
            "before": None,
            "after": {"n": i},
            "reason": "",
        }
        digest = event_digest(**fields, prev_hash=prev)
        OldEvent.objects.create(prev_hash=prev, hash=digest, **fields)
        prev = digest

    migrate_to_latest()

    assert AuditEvent.objects.filter(action="test.before_move").count() == 3
    # Written before anchors existed: the next audited change anchors the whole chain.
    assert "anchor" in verify_audit_chain().problem
    record_event(actor=None, action="test.after_move", object_type="thing", object_id="x")
    result = verify_audit_chain()
    assert result.intact and result.count == 4
