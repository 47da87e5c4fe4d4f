"""Measurement: sent versus holdout after entry, Welch's interval, and too-small groups."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from scipy import stats

from activation import services
from activation.models import Publication, PublicationMember
from activation.services import in_holdout, publication_measurement, sync_publication
from core.replica import reading_replica
from customers.models import Interaction
from tests.factories.activation import DestinationFactory
from tests.replica import wait_replayed

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db


def setup(brand, n, holdout=50):
    people = cardiologists(n)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    destination = DestinationFactory(channel="email")
    publication = services.create_publication(
        user=brand,
        segment=version.segment,
        destination_key=destination.key,
        holdout_percent=holdout,
    )
    # Backdate the publication so several whole weeks have passed since entry.
    start = timezone.now() - dt.timedelta(weeks=4)
    Publication.objects.filter(pk=publication.pk).update(created_at=start)
    publication.refresh_from_db()
    sync_publication(publication_id=publication.pk, trigger="test")
    PublicationMember.objects.filter(publication=publication).update(since=start)
    return people, publication, start


def test_fewer_than_30_on_a_side_says_so(make_user):
    _, publication, _ = setup(make_user("brand"), 10)
    answer = publication_measurement(publication=publication)
    assert answer["lift"] is None and answer["enough_data"] is False
    assert "at least 30" in answer["message"]


def test_lift_is_welch_on_per_customer_rates(make_user):
    people, publication, start = setup(make_user("brand"), 120)
    sent = [c for c in people if not in_holdout(publication.pk, c.npi, 50)]
    hold = [c for c in people if in_holdout(publication.pk, c.npi, 50)]
    assert len(sent) >= 30 and len(hold) >= 30
    rows = []
    for i, customer in enumerate(sent):
        for k in range(i % 5 + 2):  # sent members engage more on email
            rows.append(("email", customer, start + dt.timedelta(days=1 + k)))
    for i, customer in enumerate(hold):
        for k in range(i % 2 + 1):
            rows.append(("email", customer, start + dt.timedelta(days=2 + k)))
        rows.append(("webinar", customer, start + dt.timedelta(days=3)))
    rows.append(("email", sent[0], start - dt.timedelta(days=3)))  # before entry: not counted
    Interaction.objects.bulk_create(
        Interaction(customer=c, channel=ch, kind="opened", occurred_at=t) for ch, c, t in rows
    )
    answer = publication_measurement(publication=publication)
    assert answer["enough_data"] is True
    assert "Welch" in answer["method"]
    weeks = (timezone.now() - start).total_seconds() / 604800
    sent_rates = np.array([(i % 5 + 2) / weeks for i in range(len(sent))])
    hold_rates = np.array([(i % 2 + 1) / weeks for i in range(len(hold))])
    lift = answer["lift"]["channel"]
    assert lift["estimate"] == pytest.approx(sent_rates.mean() - hold_rates.mean(), abs=1e-3)
    result = stats.ttest_ind(sent_rates, hold_rates, equal_var=False)
    ci = result.confidence_interval(0.95)
    assert lift["low"] == pytest.approx(ci.low, abs=1e-3)
    assert lift["high"] == pytest.approx(ci.high, abs=1e-3)
    assert answer["groups"]["sent"]["customers"] == len(sent)
    assert answer["groups"]["holdout"]["customers"] == len(hold)
    assert answer["weekly"][0]["week"] == 0
    assert answer["weekly"][0]["sent_channel"] > answer["weekly"][0]["holdout_channel"]


def test_measurement_api_answers_for_everyone_who_sees_the_segment(make_user, client_for):
    _, publication, _ = setup(make_user("brand"), 5)
    for role in ("brand", "access", "medical", "compliance", "admin"):
        response = client_for(role).get(f"/api/v1/publications/{publication.pk}/measurement/")
        assert response.status_code == 200
        assert response.json()["publication"] == publication.pk


@pytest.mark.replica
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_measurement_reads_the_replica_when_the_request_allows_it(make_user, standby):
    people, publication, _ = setup(make_user("brand"), 40)
    wait_replayed(standby, people[-1].npi)
    time.sleep(0.5)  # the sync's rows follow the customers' in the primary's log
    with reading_replica(), CaptureQueriesContext(standby) as on_replica:
        answer = publication_measurement(publication=publication)
    assert answer["enough_data"] is not None
    assert any("customers_interaction" in q["sql"] for q in on_replica.captured_queries)
