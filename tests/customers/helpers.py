"""Small helpers to build import files in tests."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from celery import current_app
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import (
    RECENT_KEPT,
    RX_METRICS,
    RX_YEAR_COLUMNS,
    Interaction,
    InteractionRecency,
    RxFact,
    RxYear,
    rx_month_column,
)
from customers.services import import_file
from customers.signals import customers_changed


def csv_file(*lines: str) -> io.BytesIO:
    """A CSV upload from lines (header first)."""
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8"))


def run_import(kind: str, *lines: str, user=None):
    return import_file(kind=kind, file=csv_file(*lines), file_name=f"{kind}.csv", user=user)


def post_import_with_workers(api_client, kind: str, data: bytes, name: str = "c.csv"):
    """``POST /api/v1/imports/`` as when workers run (the task is not sent): the
    answer and the mock of the task's ``apply_async``."""
    current_app.conf.task_always_eager = False
    try:
        with mock.patch("customers.tasks.import_step_task.apply_async") as queued:
            response = api_client.post(
                "/api/v1/imports/",
                {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv")},
                format="multipart",
            )
    finally:
        current_app.conf.task_always_eager = True
    return response, queued


def messages(exc_info) -> list[str]:
    """The ``row N: column: message`` lines of a ValidationFailed."""
    return [str(e) for e in exc_info.value.errors]


class _Announcements:
    """The ``customers_changed`` signals sent while the context is open."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, sender, **kwargs) -> None:
        self.calls.append(kwargs)

    @property
    def last(self) -> dict:
        return self.calls[-1]


@contextmanager
def announcements() -> Iterator[_Announcements]:
    """Collect what the customers floor announces (customers.signals)."""
    collected = _Announcements()
    customers_changed.connect(collected, weak=False)
    try:
        yield collected
    finally:
        customers_changed.disconnect(collected)


def assert_totals_exact() -> None:
    """RxYear equals the facts summed per customer, product (and "" for every
    product) and year, by month (rows of zeros ignored)."""
    columns = list(RX_YEAR_COLUMNS)
    expected: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(columns))
    for fact in RxFact.objects.all():
        for product in (fact.product, ""):
            sums = expected[(fact.customer_id, product, fact.month.year)]
            for metric in RX_METRICS:
                sums[columns.index(rx_month_column(metric, fact.month.month))] += getattr(
                    fact, metric
                )
    stored = {
        (customer_id, product, year): list(sums)
        for customer_id, product, year, *sums in RxYear.objects.values_list(
            "customer_id", "product", "year", *columns
        )
    }
    assert all(min(s) >= 0 for s in stored.values()), stored
    assert {k: s for k, s in stored.items() if any(s)} == {
        k: s for k, s in expected.items() if any(s)
    }


RECENCY_LASTS = tuple(f"last_{k}" for k in range(1, RECENT_KEPT + 1))


def recency_table() -> dict[tuple[int, str], tuple]:
    """Every InteractionRecency row: (customer_id, facet) -> (last_1, ..., last_5)."""
    return {
        (customer_id, facet): tuple(lasts)
        for customer_id, facet, *lasts in InteractionRecency.objects.values_list(
            "customer_id", "facet", *RECENCY_LASTS
        )
    }


def expected_recency() -> dict[tuple[int, str], tuple]:
    """The recency table computed in Python from the interactions: per customer and
    facet ("", "channel:<c>", "topic:<t>" for a non-empty topic) the RECENT_KEPT latest
    times, latest first, equal times once per interaction, None beyond."""
    times: dict[tuple[int, str], list] = defaultdict(list)
    for customer_id, occurred_at, channel, topic in Interaction.objects.values_list(
        "customer_id", "occurred_at", "channel", "topic"
    ):
        facets = ["", f"channel:{channel}"] + ([f"topic:{topic}"] if topic else [])
        for facet in facets:
            times[(customer_id, facet)].append(occurred_at)
    return {
        key: tuple((sorted(moments, reverse=True) + [None] * RECENT_KEPT)[:RECENT_KEPT])
        for key, moments in times.items()
    }


def assert_recency_exact() -> None:
    """InteractionRecency equals the latest interaction times computed from Interaction."""
    assert recency_table() == expected_recency()
