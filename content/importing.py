"""The ``assets`` import kind: content assets from a CSV or XLSX export of the MLR system
(docs/imports.md, "assets").

Registered with customers' import registry when the app starts (``ContentConfig.ready``),
so the import pages, API and history offer it; customers never imports content.
Every row is checked by the rules asset create and edit use; the import creates new
assets as drafts and updates draft or in-review ones. It never approves or withdraws:
those are compliance's e-signed records, one asset at a time (docs/governance.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from core.errors import DomainError, ErrorDetail, ValidationFailed
from customers.importing.registry import Counts, Importer

from . import services
from .models import ContentAsset

COLUMNS = (
    "code",
    "title",
    "audience",
    "intent",
    "therapy_area",
    "indications",
    "channels",
    "mlr_reference",
    "expires_at",
    "link",
)
REQUIRED = ("code", "title", "audience", "intent")
LISTS = ("indications", "channels")
MAX_ERRORS = 1000


def _header(header: list[str]) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    problems = [
        ErrorDetail(f"header: {name}", "unknown column (expected: " + ", ".join(COLUMNS) + ")")
        for name in names
        if name and name not in COLUMNS
    ]
    problems += [
        ErrorDetail(f"header: {name}", "required column is missing")
        for name in REQUIRED
        if name not in names
    ]
    if problems:
        raise ValidationFailed(errors=problems)
    return {name: i for i, name in enumerate(names) if name}


def _row_data(cells: list[str], columns: dict[str, int]) -> dict:
    data = {}
    for name, i in columns.items():
        value = cells[i].strip() if i < len(cells) and cells[i] is not None else ""
        if name in LISTS:
            data[name] = [v.strip() for v in value.replace("|", ";").split(";") if v.strip()]
        else:
            data[name] = value
    return data


def _unchanged(asset: ContentAsset, cleaned: dict) -> bool:
    return all(getattr(asset, field) == value for field, value in cleaned.items())


def run_assets_import(
    *, header: list[str], rows: Iterator[tuple[int, list[str]]], user, now: dt.datetime
) -> Counts:
    """Check every row, then create or update assets; any problem raises and writes nothing."""
    columns = _header(header)
    errors: list[ErrorDetail] = []
    checked: list[tuple[int, dict, dict]] = []
    seen: dict[str, int] = {}
    for row_no, cells in rows:
        if not any((c or "").strip() for c in cells):
            continue
        data = _row_data(cells, columns)
        code = data.pop("code", "")
        problems = []
        if not services.CODE_RE.match(code):
            problems.append(ErrorDetail(f"row {row_no}: code", "a code of letters, digits, -_."))
        elif code.lower() in seen:
            problems.append(
                ErrorDetail(f"row {row_no}: code", f"duplicates row {seen[code.lower()]}")
            )
        seen.setdefault(code.lower(), row_no)
        for name in REQUIRED[1:]:
            if not data.get(name):
                problems.append(ErrorDetail(f"row {row_no}: {name}", "this field is required"))
        try:
            cleaned = services.clean_asset_fields(
                {k: v for k, v in data.items() if not (k in ("link", "expires_at") and not v)}
            )
        except ValidationFailed as exc:
            problems += [
                ErrorDetail(f"row {row_no}: {e.path.split('[')[0]}", e.message) for e in exc.errors
            ]
            cleaned = {}
        errors += problems
        if not problems:
            checked.append((row_no, {"code": code, **data}, cleaned))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationFailed(errors=errors[:MAX_ERRORS])
    counts = Counts()
    existing = {a.code.lower(): a for a in ContentAsset.objects.all()}
    for row_no, data, cleaned in checked:
        counts.rows += 1
        asset = existing.get(data["code"].lower())
        try:
            if asset is None:
                services.create_asset(user=user, data=data)
                counts.created += 1
            elif _unchanged(asset, cleaned):
                counts.unchanged += 1
            else:
                services.update_asset(user=user, asset=asset, data=cleaned)
                counts.updated += 1
        except DomainError as exc:
            errors += [
                ErrorDetail(f"row {row_no}: {e.path or 'code'}", e.message) for e in exc.errors
            ]
    if errors:
        raise ValidationFailed(errors=errors[:MAX_ERRORS])
    return counts


ASSETS_IMPORTER = Importer(
    kind="assets",
    label="Content assets (MLR export)",
    run=run_assets_import,
    action="create_asset",
)
