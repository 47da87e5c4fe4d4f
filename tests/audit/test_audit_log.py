"""The audit trail: append-only, hash-chained, verifiable, filterable, exportable."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from audit.chain import verify_audit_chain
from audit.models import AuditEvent, AuditLogIsAppendOnly
from audit.services import record_event

from .support import tamper

pytestmark = pytest.mark.django_db


def events(n=3, actor=None):
    return [
        record_event(actor=actor, action="test.event", object_type="thing", object_id=i)
        for i in range(n)
    ]


def client(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user=user)
    return c


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_verify_reports_an_intact_log(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the anchor is written on commit
        events(3)
    assert verify() == (0, "audit log intact: 3 events\n")


def test_verify_names_an_altered_event():
    rows = events(3)
    tamper("UPDATE governance_auditevent SET reason = 'edited' WHERE id = %s", [rows[1].pk])
    code, output = verify()
    assert code == 1
    assert str(rows[1].pk) in output


def test_verify_names_the_event_after_a_deleted_one():
    rows = events(4)
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [rows[1].pk])
    result = verify_audit_chain()
    assert not result.intact and result.first_broken_id == rows[2].pk
    code, output = verify()
    assert code == 1 and str(rows[2].pk) in output


def test_orm_refuses_to_update_an_event():
    event = events(1)[0]
    event.reason = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()


def test_orm_refuses_to_delete_an_event():
    event = events(1)[0]
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()


def test_queryset_refuses_bulk_update_and_delete():
    events(2)
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().update(reason="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgres_trigger_refuses_update_and_delete():
    from django.db import DatabaseError, transaction

    event = events(1)[0]
    for sql in (
        "UPDATE governance_auditevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM governance_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


# --- the API -------------------------------------------------------------------------


def test_compliance_reads_the_audit_log(make_user):
    events(2)
    body = client(make_user("compliance")).get("/api/v1/audit/").json()
    assert body["count"] == 2
    assert {
        "occurred_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "reason",
    } <= set(body["results"][0])


@pytest.mark.parametrize("role", ["brand", "access", "medical", "field_lead"])
def test_other_roles_cannot_read_the_audit_log(make_user, role):
    assert client(make_user(role)).get("/api/v1/audit/").status_code == 403


def test_filter_by_object_type_and_id(make_user):
    record_event(actor=None, action="asset.created", object_type="asset", object_id="US-1")
    record_event(actor=None, action="segment.created", object_type="segment", object_id="US-1")
    record_event(actor=None, action="asset.created", object_type="asset", object_id="US-2")
    c = client(make_user("compliance"))
    assert c.get("/api/v1/audit/?object=asset:US-1").json()["count"] == 1
    assert c.get("/api/v1/audit/?object=US-1").json()["count"] == 2


def test_filter_by_action_actor_and_since(make_user):
    someone = make_user("brand", username="bob")
    record_event(actor=someone, action="asset.created", object_type="asset", object_id="A")
    record_event(actor=None, action="asset.updated", object_type="asset", object_id="A")
    c = client(make_user("compliance"))
    assert c.get("/api/v1/audit/?action=asset.created").json()["count"] == 1
    assert c.get("/api/v1/audit/?action=asset.").json()["count"] == 2
    assert c.get("/api/v1/audit/?actor=bob").json()["count"] == 1
    assert c.get("/api/v1/audit/?since=2999-01-01").json()["count"] == 0
    assert c.get("/api/v1/audit/?since=2000-01-01T00:00:00Z").json()["count"] == 2


def test_invalid_since_answers_400(make_user):
    response = client(make_user("compliance")).get("/api/v1/audit/?since=yesterday")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "since"


def test_csv_export(make_user):
    events(3)
    response = client(make_user("compliance")).get("/api/v1/audit/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and rows[0]["action"] == "test.event"


def test_events_name_their_object_as_type_and_id(make_user):
    record_event(actor=None, action="asset.created", object_type="asset", object_id="US-1")
    c = client(make_user("compliance"))
    assert c.get("/api/v1/audit/").json()["results"][0]["object"] == "asset:US-1"


def test_csv_export_names_the_object_as_type_and_id(make_user):
    record_event(actor=None, action="asset.created", object_type="asset", object_id="US-1")
    response = client(make_user("compliance")).get("/api/v1/audit/?format=csv")
    text = b"".join(response.streaming_content).decode()
    assert next(csv.DictReader(io.StringIO(text)))["object"] == "asset:US-1"


def test_csv_export_is_refused_to_brand(make_user):
    response = client(make_user("brand")).get("/api/v1/audit/?format=csv")
    assert response.status_code == 403
