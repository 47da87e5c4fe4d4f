"""The ``coverage`` import kind: payers' formulary status and covered lives per product
over time (docs/imports.md, "coverage").

One row per (account, product, effective_from); re-importing updates the row.
The account must exist and be a payer. All or nothing, like every import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from core.errors import ErrorDetail

from ..models import Account, Coverage
from ..signals import announce_accounts_changed
from ..vocabularies import AccountType, FormularyStatus
from . import fields as f
from .registry import Counts, Importer
from .table import Col, parse_date, read_rows, refuse

COLUMNS = (
    Col("account_id", f.code(64)),
    Col("product", f.text(1, 64)),
    Col("status", f.vocabulary(FormularyStatus.values)),
    Col("lives", f.integer(0)),
    Col("effective_from", parse_date),
)


def run_coverage_import(
    *, header: list[str], rows: Iterator[tuple[int, list[str]]], user, now: dt.datetime
) -> Counts:
    checked, errors = read_rows(header, rows, COLUMNS)
    types = dict(
        Account.objects.filter(pk__in={d["account_id"] for _, d in checked}).values_list(
            "pk", "account_type"
        )
    )
    seen: dict[tuple, int] = {}
    for row_no, d in checked:
        kind = types.get(d["account_id"])
        if kind is None:
            errors.append(ErrorDetail(f"row {row_no}: account_id", "no such account"))
        elif kind != AccountType.PAYER:
            errors.append(
                ErrorDetail(f"row {row_no}: account_id", f"must be a payer (is a {kind})")
            )
        key = (d["account_id"], d["product"], d["effective_from"])
        if key in seen:
            errors.append(
                ErrorDetail(f"row {row_no}: effective_from", f"duplicates row {seen[key]}")
            )
        seen.setdefault(key, row_no)
    refuse(errors)
    existing = {
        (c.account_id, c.product, c.effective_from): c
        for c in Coverage.objects.filter(account_id__in=types)
    }
    counts = Counts(rows=len(checked))
    new, changed = [], []
    for _, d in checked:
        row = existing.get((d["account_id"], d["product"], d["effective_from"]))
        if row is None:
            new.append(Coverage(**d))
        elif (row.status, row.lives) == (d["status"], d["lives"]):
            counts.unchanged += 1
        else:
            row.status, row.lives = d["status"], d["lives"]
            changed.append(row)
    Coverage.objects.bulk_create(new, batch_size=2000)
    Coverage.objects.bulk_update(changed, ["status", "lives"], batch_size=2000)
    counts.created, counts.updated = len(new), len(changed)
    if new or changed:
        announce_accounts_changed(source="import:coverage")
    return counts


COVERAGE_IMPORTER = Importer(
    kind="coverage", label="Payer coverage (formulary status, lives)", run=run_coverage_import
)
