"""The ``referrals`` import kind, in the layout of the public shared-patient data
(docs/imports.md, "referrals").

Each row a directed pair ``npi_1 -> npi_2`` of one period (``period_end``). An
import replaces the network of every period it names, then computes the
influence fields of that period's customers (``customers.influence``) and
stores them, so rules read stored numbers. Rows naming an NPI that is not a
customer are kept but count in no field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from core.errors import ErrorDetail

from ..influence import influence_scores
from ..models import Customer, Influence, Referral, ReferralNetwork
from . import fields as f
from .registry import Counts, Importer
from .table import Col, parse_date, parse_npi_digits, read_rows, refuse

COLUMNS = (
    Col("npi_1", parse_npi_digits),
    Col("npi_2", parse_npi_digits),
    Col("pair_count", f.integer(0)),
    Col("bene_count", f.integer(0)),
    Col("same_day_count", f.integer(0)),
    Col("period_end", parse_date),
)
VALUES = ("pair_count", "bene_count", "same_day_count")


def run_referrals_import(
    *, header: list[str], rows: Iterator[tuple[int, list[str]]], user, now: dt.datetime
) -> Counts:
    checked, errors = read_rows(header, rows, COLUMNS)
    periods: dict[dt.date, dict[tuple[str, str], tuple[int, int, int]]] = {}
    seen: dict[tuple, int] = {}
    for row_no, d in checked:
        key = (d["period_end"], d["npi_1"], d["npi_2"])
        if key in seen:
            errors.append(ErrorDetail(f"row {row_no}: npi_2", f"duplicates row {seen[key]}"))
            continue
        seen[key] = row_no
        periods.setdefault(d["period_end"], {})[(d["npi_1"], d["npi_2"])] = tuple(
            d[v] for v in VALUES
        )
    refuse(errors)
    counts = Counts(rows=len(checked))
    touched: set[int] = set()
    for period_end, pairs in sorted(periods.items()):
        old = ReferralNetwork.objects.filter(period_end=period_end).first()
        before: dict[tuple[str, str], tuple[int, int, int]] = {}
        if old is not None:
            before = {
                (r[0], r[1]): tuple(r[2:])
                for r in Referral.objects.filter(network=old).values_list("npi_1", "npi_2", *VALUES)
            }
        if before == pairs:
            counts.unchanged += len(pairs)
            continue
        for key, value in pairs.items():
            if key not in before:
                counts.created += 1
            elif before[key] != value:
                counts.updated += 1
            else:
                counts.unchanged += 1
        if old is not None:
            touched.update(
                Influence.objects.filter(network=old).values_list("customer_id", flat=True)
            )
            old.delete()
        touched.update(write_period(period_end, pairs, now))
    counts.customer_ids = sorted(touched)
    return counts


def write_period(
    period_end: dt.date, pairs: dict[tuple[str, str], tuple[int, int, int]], now: dt.datetime
) -> list[int]:
    """Store one period's pairs and its customers' influence; returns their ids."""
    npis = {n for key in pairs for n in key}
    customers = {
        npi: (pk, specialty)
        for npi, pk, specialty in Customer.objects.filter(npi__in=npis).values_list(
            "npi", "pk", "specialty"
        )
    }
    scores = influence_scores(
        ((a, b, v[1]) for (a, b), v in pairs.items()),
        {npi: specialty or None for npi, (_, specialty) in customers.items()},
    )
    network = ReferralNetwork.objects.create(
        period_end=period_end, pairs=len(pairs), customers=len(scores), imported_at=now
    )
    Referral.objects.bulk_create(
        (
            Referral(
                network=network,
                npi_1=a,
                npi_2=b,
                pair_count=v[0],
                bene_count=v[1],
                same_day_count=v[2],
            )
            for (a, b), v in sorted(pairs.items())
        ),
        batch_size=5000,
    )
    Influence.objects.bulk_create(
        (
            Influence(
                network=network,
                customer_id=customers[npi][0],
                referrals_in=s.referrals_in,
                referrals_out=s.referrals_out,
                pagerank=s.pagerank,
                pagerank_pct=s.pagerank_pct,
                pagerank_pct_in_specialty=s.pagerank_pct_in_specialty,
            )
            for npi, s in sorted(scores.items())
        ),
        batch_size=5000,
    )
    return [customers[npi][0] for npi in scores]


REFERRALS_IMPORTER = Importer(
    kind="referrals", label="Referral network (shared patients)", run=run_referrals_import
)
