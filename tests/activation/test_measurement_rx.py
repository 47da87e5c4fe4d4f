"""Measurement on prescribing, verdicts and the minimum detectable effect, through the
database (SQLite and PostgreSQL): planted prescriptions with a known difference in
differences, a fresh publication, months without rx data, and the API's shape."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from django.utils import timezone
from scipy import stats

from activation import services
from activation.models import Publication, PublicationMember
from activation.services import in_holdout, publication_measurement, sync_publication
from customers.models import RxFact
from tests.factories.activation import DestinationFactory

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db


def month_start(months_back: int) -> dt.date:
    today = timezone.now().date()
    index = today.year * 12 + today.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def publish(brand, n, *, since, holdout=50, channel="rep_visit", title="CARDIOZEN dosing guide"):
    people = cardiologists(n)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand, title=title)
    destination = DestinationFactory(channel=channel)
    publication = services.create_publication(
        user=brand,
        segment=version.segment,
        destination_key=destination.key,
        holdout_percent=holdout,
    )
    if since is not None:
        Publication.objects.filter(pk=publication.pk).update(created_at=since)
    sync_publication(publication_id=publication.pk, trigger="test")
    if since is not None:
        PublicationMember.objects.filter(publication=publication).update(since=since)
    publication.refresh_from_db()
    sent = [c for c in people if not in_holdout(publication.pk, c.npi, holdout)]
    hold = [c for c in people if in_holdout(publication.pk, c.npi, holdout)]
    # The holdout hashes the publication's id, which differs between runs: 120 people
    # put at least 30 on each side except with a chance of about one in a hundred million.
    return publication, sent, hold


def plant_rx(sent, hold, *, entry_back=3, last_back=1):
    """CARDIOZEN TRx: ``base`` a month before entry, ``base + bump`` after it, where the
    sent bump is 3-5 and the holdout's 1-2; 100 in the entry month (never counted); a
    competitor gets a large bump that the measurement must leave out."""
    facts, bumps = [], {"sent": [], "holdout": []}
    for grp, people, bump_of in (
        ("sent", sent, lambda i: 3 + i % 3),
        ("holdout", hold, lambda i: 1 + i % 2),
    ):
        for i, customer in enumerate(people):
            base, bump = 2 + i % 4, bump_of(i)
            bumps[grp].append(bump)
            for back in range(entry_back + 6, last_back - 1, -1):
                offset = entry_back - back
                trx = base if offset < 0 else (100 if offset == 0 else base + bump)
                month = month_start(back)
                facts.append(RxFact(customer=customer, month=month, product="CARDIOZEN",
                                    nrx=trx // 2, trx=trx, new_patient_starts=0))  # fmt: skip
                facts.append(RxFact(customer=customer, month=month, product="VASTORIN",
                                    nrx=0, trx=50 * (grp == "sent" and offset > 0),
                                    new_patient_starts=0))  # fmt: skip
    RxFact.objects.bulk_create(facts)
    return {k: np.array(v, dtype=float) for k, v in bumps.items()}


def entry_date(months_back: int) -> dt.datetime:
    first = month_start(months_back)
    return dt.datetime(first.year, first.month, 10, 12, tzinfo=dt.UTC)


def test_rx_lift_is_the_difference_in_differences_of_the_content_products(make_user):
    publication, sent, hold = publish(make_user("brand"), 120, since=entry_date(3))
    assert len(sent) >= 30 and len(hold) >= 30
    bumps = plant_rx(sent, hold)
    answer = publication_measurement(publication=publication)
    rx = answer["rx"]
    assert rx["products"] == ["CARDIOZEN"] and rx["all_products"] is False
    assert "difference in differences" in rx["method"] and "Welch" in rx["method"]
    # By hand: each customer's after - before is their bump (the entry month is left out).
    expected = bumps["sent"].mean() - bumps["holdout"].mean()
    lift = rx["lift"]["trx"]
    assert lift["estimate"] == pytest.approx(expected, abs=1e-3)
    ci = stats.ttest_ind(bumps["sent"], bumps["holdout"], equal_var=False).confidence_interval()
    assert lift["low"] == pytest.approx(ci.low, abs=1e-3)
    assert lift["high"] == pytest.approx(ci.high, abs=1e-3)
    sent_group = rx["groups"]["sent"]
    assert sent_group["customers"] == len(sent)
    assert sent_group["trx_after"] - sent_group["trx_before"] == pytest.approx(
        bumps["sent"].mean(), abs=1e-3
    )
    assert answer["verdict"]["trx"].startswith("sent customers had more CARDIOZEN TRx")
    assert "relative to before entry" in answer["verdict"]["trx"]
    # Monthly series from 6 months before entry to the latest month with data.
    offsets = [m["offset"] for m in rx["months"]]
    assert offsets == list(range(-6, 3))
    entry_month = rx["months"][6]
    assert entry_month["sent_trx"] > 50  # shown, but not counted in either window
    assert all(m["rx_data"] for m in rx["months"])
    # No interactions since entry: engagement has nothing to measure.
    assert answer["verdict"]["channel"].startswith("nothing to measure yet")


def test_months_without_rx_data_say_so(make_user):
    publication, sent, hold = publish(make_user("brand"), 120, since=entry_date(1))
    plant_rx(sent, hold, entry_back=1, last_back=2)  # data stops before the entry month
    rx = publication_measurement(publication=publication)["rx"]
    assert rx["lift"] is None
    assert rx["latest_month"] == month_start(2).strftime("%Y-%m")
    after = [m for m in rx["months"] if m["offset"] > 0]
    assert after and all(not m["rx_data"] and m["note"] == "no rx data yet" for m in after)
    assert rx["message"].startswith("nothing to measure yet: no rx data for the months after")


def test_a_fresh_publication_has_nothing_to_measure_yet(make_user):
    publication, sent, hold = publish(make_user("brand"), 80, since=None)
    assert len(sent) >= 30 and len(hold) >= 30
    answer = publication_measurement(publication=publication)
    assert answer["lift"] is None
    assert answer["message"].startswith("nothing to measure yet")
    for figure in ("channel", "all", "nrx", "trx"):
        assert answer["verdict"][figure].startswith("nothing to measure yet"), figure
    assert "0.000 (95% CI 0.000 to 0.000)" not in json.dumps(answer)


def test_too_few_customers_say_so_for_every_figure(make_user):
    publication, _, _ = publish(make_user("brand"), 12, since=entry_date(3))
    answer = publication_measurement(publication=publication)
    for figure in ("channel", "all", "nrx", "trx"):
        assert answer["verdict"][figure].startswith("not enough customers yet"), figure
        assert answer["mde"][figure]["more_customers"] > 0


def test_mde_fields_are_sensible(make_user):
    publication, sent, hold = publish(make_user("brand"), 120, since=entry_date(3))
    bumps = plant_rx(sent, hold)
    mde = publication_measurement(publication=publication)["mde"]
    assert mde["power"] == 0.8 and mde["alpha"] == 0.05 and "TTestIndPower" in mde["method"]
    trx = mde["trx"]
    assert trx["sent"] == len(sent) and trx["holdout"] == len(hold)
    assert trx["unit"] == "TRx per customer per month"
    # About 2.8 pooled standard deviations over sqrt(n) per side.
    sd = np.sqrt(
        (
            (len(sent) - 1) * bumps["sent"].var(ddof=1)
            + (len(hold) - 1) * bumps["holdout"].var(ddof=1)
        )
        / (len(sent) + len(hold) - 2)
    )
    rough = 2.8 * sd * np.sqrt(1 / len(sent) + 1 / len(hold))
    assert trx["effect"] == pytest.approx(rough, rel=0.05)
    assert trx["wide"] is False and trx["more_customers"] is None
    assert "smallest lift this measurement can detect" in trx["text"]
    for figure in ("channel", "all", "nrx"):
        assert set(trx) == set(mde[figure])


def test_a_wide_interval_says_what_it_would_take(make_user):
    publication, sent, hold = publish(make_user("brand"), 120, since=entry_date(3))
    facts = []
    # The same noise in each group (which customers the holdout takes depends on the
    # publication's id), plus a small lift for every fifth sent customer: an estimate
    # of about 0.2 TRx that is never exactly zero and never significant at n = 120.
    for group in (sent, hold):
        for i, customer in enumerate(group):
            lift = group is sent and i % 5 == 0
            after = 5 + (1 if i % 2 else -1) + (i % 7 == 0) + lift
            for back, trx in ((4, 5), (2, after)):
                facts.append(RxFact(customer=customer, month=month_start(back), product="CARDIOZEN",
                                    nrx=0, trx=trx, new_patient_starts=0))  # fmt: skip
    RxFact.objects.bulk_create(facts)
    answer = publication_measurement(publication=publication)
    assert answer["verdict"]["trx"].startswith("no measurable difference yet")
    trx = answer["mde"]["trx"]
    assert trx["wide"] is True
    assert trx["customers_needed"] > len(sent) + len(hold)
    assert trx["more_customers"] == trx["customers_needed"] - len(sent) - len(hold)
    assert "more)" in trx["text"]


def test_measurement_api_carries_rx_verdict_and_mde(make_user, client_for):
    publication, sent, hold = publish(make_user("brand"), 120, since=entry_date(3))
    plant_rx(sent, hold)
    body = client_for("medical").get(f"/api/v1/publications/{publication.pk}/measurement/").json()
    assert {"rx", "verdict", "mde", "lift", "groups", "weekly", "method"} <= set(body)
    assert set(body["verdict"]) == {"channel", "all", "nrx", "trx"}
    assert {"power", "alpha", "method", "channel", "all", "nrx", "trx"} <= set(body["mde"])
    assert {
        "products", "all_products", "method", "unit", "months_before", "months_after",
        "first_month", "latest_month", "groups", "months", "lift", "enough_data", "message",
    } == set(body["rx"])  # fmt: skip
    assert set(body["rx"]["lift"]) == {"nrx", "trx"}
    assert {"estimate", "low", "high", "p_value", "df"} == set(body["rx"]["lift"]["trx"])
    assert {
        "effect", "unit", "sent", "holdout", "sd", "wide", "customers_needed",
        "more_customers", "more_weeks", "text",
    } == set(body["mde"]["trx"])  # fmt: skip
