"""Every feature stands for exactly one rule condition: the engine agrees with the feature table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from customers.models import Customer
from discovery.features import build_features
from tests.factories import RxFactFactory
from tests.factories.discovery import AS_OF

from .conftest import members_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(population):
    return build_features(population=Customer.objects.all(), as_of=AS_OF)


def _engine_ids(rule) -> set[int]:
    npis = members_of(rule)
    return set(Customer.objects.filter(npi__in=npis).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "name",
    [
        "event:rep_visit:30d",
        "event:rep_visit:90d",
        "event:webinar:90d",
        "rx:all:trx:3m",
        "rx:all:nrx:6m",
        "decile",
    ],
)
def test_a_threshold_on_a_feature_is_the_rule_condition(table, name):
    spec = table.specs[name]
    values = table.numeric[name].to_numpy()
    threshold = int(np.nanmedian(values)) or 1
    expected = set(table.ids[values >= threshold].tolist())
    assert _engine_ids(spec.condition("gte", threshold)) == expected


def test_one_hot_columns_are_equality_conditions(table):
    frame = table.onehot()
    column = frame["specialty=oncology"].to_numpy() == 1
    rule = table.spec_for("specialty=oncology").condition("eq", None)
    assert rule == {"field": "specialty", "op": "eq", "value": "oncology"}
    assert _engine_ids(rule) == set(table.ids[column].tolist())


def test_families_leave_out_features(population):
    only_rx = build_features(population=Customer.objects.all(), as_of=AS_OF, families=("rx",))
    assert all(name.startswith("rx:") for name in only_rx.numeric.columns)
    assert only_rx.categories == {}


def test_a_channel_with_one_kind_keeps_only_the_channel_feature(table):
    assert "event:rep_visit:90d" in table.numeric.columns
    assert "event:rep_visit/visited:90d" not in table.numeric.columns


def test_rx_feature_labels_read_as_words(population):
    RxFactFactory(
        customer=population[0], month=dt.date(2026, 5, 1), product="NEWSTART", new_patient_starts=3
    )
    table = build_features(population=Customer.objects.all(), as_of=AS_OF, families=("rx",))
    labels = {spec.label for name, spec in table.specs.items() if name.startswith("rx:all:")}
    assert "new patient starts all products, 3 months" in labels, sorted(labels)
    assert "TRX all products, 3 months" in labels
    assert not any("NEW PATIENT" in label for label in labels)
