"""Behaviour that needs real commits: failed signature attempts, concurrent audit writers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from audit.chain import verify_audit_chain
from audit.models import AuditEvent
from audit.services import record_event
from audit.tasks import verify_audit_log
from governance.models import Signature
from governance.services import submit_version

from .support import draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_failed_attempt_through_the_api_is_committed(make_user):
    author = make_user("brand")
    version = draft(author, "committed")
    submit_version(user=author, version=version)
    client = APIClient()
    client.force_authenticate(user=make_user("medical"))
    response = client.post(
        "/api/v1/segments/committed/signatures/",
        {"team": "medical", "decision": "approve", "comment": "", "password": "wrong"},
        format="json",
    )
    assert response.status_code == 403
    assert not Signature.objects.exists()
    # Autocommit: the row is visible because it was committed by the request.
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_concurrent_writers_keep_the_chain_intact():
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                record_event(
                    actor=None, action="test.concurrent", object_type="w", object_id=f"{worker}-{i}"
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = verify_audit_chain()
    assert result.intact and result.count == 60


def test_verify_task_reports_the_chain():
    record_event(actor=None, action="test.event", object_type="t", object_id=1)
    assert verify_audit_log() == {"intact": True, "count": 1, "first_broken_id": None}
