"""The keyed chain and its anchor outside the database catch what a database
owner could do: delete the newest events, empty the table, rebuild the chain
without the key (docs/governance.md, "Audit trail")."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.anchor import _mac, anchor_path, read_anchor
from audit.chain import GENESIS_HASH, event_digest
from audit.models import AuditEvent
from audit.services import record_event
from audit.tasks import verify_audit_log

from .support import tamper

# Committed transactions, so the anchor is written on commit as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def events(n: int) -> list[AuditEvent]:
    return [
        record_event(actor=None, action="test.event", object_type="thing", object_id=i)
        for i in range(n)
    ]


def verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_each_commit_anchors_the_head_and_length():
    rows = events(3)
    anchor = read_anchor()
    assert (anchor.count, anchor.head_id, anchor.head_hash) == (3, rows[-1].pk, rows[-1].hash)
    assert verify() == (0, "audit log intact: 3 events\n", "")


def test_deleting_the_newest_event_is_detected():
    rows = events(3)
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [rows[-1].pk])
    code, out, _ = verify()
    assert code == 1
    assert "newest events are missing" in out and str(rows[-1].pk) in out


def test_an_emptied_table_is_detected():
    events(3)
    tamper("DELETE FROM governance_auditevent", [])
    code, out, _ = verify()
    assert code == 1 and "whole log is missing" in out


def test_a_chain_recomputed_without_the_key_is_detected():
    """Rebuild every event's hash with the public (unkeyed) digest, as an attacker can."""
    rows = events(3)
    prev = GENESIS_HASH
    for row in AuditEvent.objects.order_by("id"):
        digest = event_digest(
            occurred_at=row.occurred_at,
            actor_username=row.actor_username,
            action=row.action,
            object_type=row.object_type,
            object_id=row.object_id,
            before=row.before,
            after={"forged": True},
            reason=row.reason,
            prev_hash=prev,
        )
        tamper(
            "UPDATE governance_auditevent SET after = %s, hash = %s, prev_hash = %s, "
            "chain_version = 1 WHERE id = %s",
            [json.dumps({"forged": True}), digest, prev, row.pk],
        )
        prev = digest
    code, out, _ = verify()
    assert code == 1
    assert str(rows[0].pk) in out and "rewritten" in out


def test_a_chain_rehashed_with_a_wrong_key_is_detected(settings):
    rows = events(2)
    settings.AUDIT_HMAC_KEY = "not-the-key"
    code, out, _ = verify()
    assert code == 1 and str(rows[0].pk) in out and "without the key" in out


def test_a_lagging_anchor_is_reported_not_failed():
    events(2)
    path = anchor_path()
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n")
    code, out, err = verify()
    assert code == 0 and out == "audit log intact: 2 events\n"
    assert "anchor lags the table by 1 events" in err


def test_a_forged_anchor_line_is_ignored():
    events(1)
    with anchor_path().open("a") as handle:
        handle.write(json.dumps({"count": 99, "head_id": 99, "head_hash": "x", "mac": "y"}) + "\n")
    assert read_anchor().count == 1


def test_the_beat_task_logs_an_alert_when_the_log_is_broken(caplog):
    rows = events(2)
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [rows[-1].pk])
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert verify_audit_log()["intact"] is False
    assert any("AUDIT LOG BROKEN" in r.getMessage() for r in caplog.records)


def test_legacy_unkeyed_events_verify_up_to_the_keyed_cut_over():
    """A database migrated from before the key: its unkeyed events, then keyed ones."""
    prev = GENESIS_HASH
    for i in range(2):
        fields = {
            "occurred_at": timezone.now(),
            "actor_username": "system",
            "action": "test.legacy",
            "object_type": "thing",
            "object_id": str(i),
            "before": None,
            "after": {"n": i},
            "reason": "",
        }
        digest = event_digest(**fields, prev_hash=prev)
        AuditEvent.objects.create(prev_hash=prev, hash=digest, chain_version=1, **fields)
        prev = digest
    keyed = events(2)
    assert [e.seq for e in keyed] == [3, 4]
    assert read_anchor().keyed_from == 3
    assert verify() == (0, "audit log intact: 4 events\n", "")
    # An unkeyed event appended after the cut-over is a rewrite without the key.
    tail = AuditEvent.objects.order_by("-id").first()
    fields = {
        "occurred_at": timezone.now(),
        "actor_username": "system",
        "action": "test.forged",
        "object_type": "thing",
        "object_id": "x",
        "before": None,
        "after": None,
        "reason": "",
    }
    forged = AuditEvent.objects.create(
        prev_hash=tail.hash, hash=event_digest(**fields, prev_hash=tail.hash), **fields
    )
    code, out, _ = verify()
    assert code == 1 and str(forged.pk) in out and "without the key" in out


# --- the anchor itself: missing, unreadable, foreign, and named by the database ---


def test_an_empty_log_without_an_anchor_is_a_first_run():
    assert verify() == (0, "audit log intact: 0 events\n", "")


def test_a_missing_anchor_fails_verification():
    events(3)
    anchor_path().unlink()
    code, out, _ = verify()
    assert code == 1
    assert out.count("\n") == 1 and "anchor" in out and "is missing" in out and "3 events" in out


def test_an_unreadable_anchor_fails_verification():
    events(1)
    path = anchor_path()
    path.unlink()
    path.mkdir()  # there, but not a file anyone can read
    code, out, _ = verify()
    assert code == 1 and "cannot be read" in out


def test_an_anchor_from_another_database_fails_verification():
    events(2)
    path = anchor_path()
    lines = []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        item["database"] = "0" * 32
        item["mac"] = _mac(
            item["count"], item["head_id"], item["head_hash"], item["keyed_from"], "0" * 32
        )
        lines.append(json.dumps(item))
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = verify()
    assert code == 1 and "belongs to another database" in out


def test_the_anchor_does_not_depend_on_how_the_host_is_spelled(monkeypatch):
    from django.db import connection

    rows = events(3)
    for host in ("127.0.0.1", "localhost"):  # verified below as "localhost"
        monkeypatch.setitem(connection.settings_dict, "HOST", host)
        assert read_anchor().count == 3
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [rows[-1].pk])
    code, out, _ = verify()
    assert code == 1 and "newest events are missing" in out
    tamper("DELETE FROM governance_auditevent", [])  # never "intact: 0 events"
    code, out, _ = verify()
    assert code == 1 and "whole log is missing" in out


def test_health_fails_when_the_anchor_is_missing(client):
    events(1)
    assert client.get("/health/?format=json").status_code == 200
    anchor_path().unlink()
    response = client.get("/health/?format=json")
    assert response.status_code == 500
