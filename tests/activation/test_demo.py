"""The demo publication: made once through the services, dated back, with planted effects
its measurement finds."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from activation.demo import (
    DEMO_HOLDOUT,
    PLANTED_TRX,
    PLANTED_VISITS_PER_WEEK,
    seed_activation_demo,
)
from activation.models import Publication, PublicationMember
from activation.services import publication_measurement

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db


def test_demo_publishes_once_with_a_holdout(make_user, django_capture_on_commit_callbacks):
    make_user("admin", username="admin")
    brand = make_user("brand", username="brand")
    version = active_version(brand, customers=cardiologists(5))
    approved_mapping(version, brand)
    with django_capture_on_commit_callbacks(execute=True):
        message = seed_activation_demo(weeks=8)
    publication = Publication.objects.get()
    assert "published" in message and publication.holdout_percent == DEMO_HOLDOUT
    assert publication.last_sync == 1
    assert (timezone.now() - publication.created_at).days >= 55
    assert all(
        (timezone.now() - m.since).days >= 55
        for m in PublicationMember.objects.filter(publication=publication)
    )
    assert seed_activation_demo() == "activation demo: already seeded"
    assert Publication.objects.count() == 1


def test_the_demo_measurement_finds_the_planted_effects(django_capture_on_commit_callbacks):
    """seed_demo on 1,000 HCPs, then seed_activation_demo: both sides have 30+ customers,
    every figure has a verdict, and the rep-visit and TRx intervals contain the effects
    the demo planted (0.25 rep visits per customer per week, 2 TRx per month)."""
    # The holdout is a hash of the publication id: start ids at 1 as on a fresh demo
    # database (SQLite rolls its counter back with each test; PostgreSQL's sequence not).
    reset = connection.ops.sequence_reset_by_name_sql(
        no_style(), [{"table": Publication._meta.db_table, "column": "id"}]
    )
    with connection.cursor() as cursor:
        for sql in reset:
            cursor.execute(sql)
    call_command("seed_demo", "--customers", "1000", "--history-days", "0", stdout=StringIO())
    call_command("recompute_segments", "--active-only", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        message = seed_activation_demo()
    assert "cardiozen-call-plan published to demo-rep-visit" in message
    publication = Publication.objects.get()
    assert publication.holdout_percent == DEMO_HOLDOUT
    answer = publication_measurement(publication=publication)
    groups = answer["groups"]
    assert groups["sent"]["customers"] >= 30 and groups["holdout"]["customers"] >= 30
    visits = answer["lift"]["channel"]
    assert visits["low"] <= PLANTED_VISITS_PER_WEEK <= visits["high"], visits
    assert answer["verdict"]["channel"].startswith("sent customers had more rep visits")
    trx = answer["rx"]["lift"]["trx"]
    assert answer["rx"]["products"] == ["CARDIOZEN"]
    assert trx["low"] <= PLANTED_TRX <= trx["high"], trx
    assert answer["verdict"]["trx"].startswith("sent customers had more CARDIOZEN TRx")
    assert all(answer["verdict"][k] for k in ("all", "nrx"))
