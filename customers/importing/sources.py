"""Public US files read in their published layouts: NPPES, NUCC taxonomy, Part D, and the
territory alignment (docs/sources.md).

The same guarantees as every import (docs/imports.md): streaming (one chunk of
rows in Python, staged through ``staging.Stage``), every problem listed as
``row N: column: message``, all or nothing inside the caller's transaction. What
differs from the product's own layouts:

- header names are the publishers' (matched case-insensitively, trimmed);
  columns the product does not use are ignored; a missing one it needs is
  named, and a header that is another kind's says so;
- a file is CSV, comma-separated, UTF-8; a cell that is not UTF-8, a row with
  fewer cells than the header (a truncated file) or more non-blank cells is an
  error naming its row and column;
- rows the product has no use for are skipped and counted by reason (a Part D
  brand nobody tracks), never an error, so the report says rows read,
  written, unchanged and skipped and why.

``read_rows`` parses each kind's rows here; ``source_writers`` stages and
upserts them in SQL.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from core.errors import ErrorDetail, ValidationFailed
from customers.vocabularies import US_STATES, Specialty

from . import fields as f
from . import layouts as L
from .engine import Outcome
from .readers import OLE_MAGIC, XLSX_MAGIC, _binary
from .rows import Errors

SOURCE_KINDS = ("nppes", "taxonomy", "partd", "alignment")

# Text the decoder could not read as UTF-8 (kept as surrogates), or a NUL.
_BAD_TEXT = re.compile("[\udc80-\udcff\x00]")
_TAXONOMY_CODE = re.compile(r"[0-9A-Z]{9}X")
_ZIP_PREFIX = re.compile(r"\d{3}|\d{5}")


@dataclass
class SourceOutcome(Outcome):
    """An import's counts, plus rows skipped by reason and other counts worth showing."""

    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    # Pages of the changed customers' ids (instead of ``customer_ids``, which
    # would hold millions in memory after an NPPES import).
    changed_pages: Callable[[], Iterator[list[int]]] | None = None

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped += n
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def note(self, name: str, n: int) -> None:
        if n:
            self.notes[name] = self.notes.get(name, 0) + n


# -- options ---------------------------------------------------------------------------


def check_options(kind: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The options a kind needs, validated: Part D's ``data_year`` (the file has none)."""
    options = dict(options or {})
    if kind != "partd":
        return {}
    raw = str(options.get("data_year") or "").strip()
    if not raw:
        raise ValidationFailed(
            "the Part D file carries no year: give the data year (e.g. 2023)", path="data_year"
        )
    if not re.fullmatch(r"\d{4}", raw) or not 1990 <= int(raw) <= 2100:
        raise ValidationFailed(f"'{raw}' is not a year (YYYY)", path="data_year")
    return {"data_year": int(raw)}


# -- the file ------------------------------------------------------------------------


@dataclass
class SourceTable:
    header: list[str]
    # (row number, cells, suspect): ``suspect`` is False for a row whose bytes
    # were scanned and hold neither undecodable bytes nor NUL, so its cells need
    # no check of their own (see ``_Scanned``).
    rows: Iterator[tuple[int, list[str], bool]]
    close: Callable[[], None]


class _Scanned(io.RawIOBase):
    """The file's bytes, scanned block by block for bytes that are not UTF-8 or NUL.

    One scan of each block (a C-speed decode and ``in``) instead of a search of
    every row's cells: ``suspect`` turns on when a block has such a byte and
    stays on, so every row read from then on is checked cell by cell. The text
    layer reads ahead, never behind, so a row read before the flag turned on
    cannot hold the byte.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self.stream = stream
        self.suspect = False
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if not self.suspect and data:
            if b"\x00" in data:
                self.suspect = True
            else:
                try:
                    self._decoder.decode(data)
                except UnicodeDecodeError:
                    self.suspect = True
        return size


def open_source(file: Any, file_name: str = "") -> SourceTable:
    """Header and rows of a published CSV file. Undecodable bytes are kept (as
    surrogates) so that the row and column holding them can be named."""
    stream, owned = _binary(file)
    head = stream.read(8)
    stream.seek(0)
    name = (file_name or "").lower()

    def close() -> None:
        if owned:
            stream.close()

    if head.startswith((XLSX_MAGIC, OLE_MAGIC)) or name.endswith((".xlsx", ".xls", ".xlsm")):
        close()
        raise ValidationFailed(
            "the published files are CSV: import the CSV file as downloaded", path="file"
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        close()
        raise ValidationFailed("the file is UTF-16; the published files are UTF-8", path="file")
    scanned = _Scanned(stream)
    buffered = io.BufferedReader(scanned, buffer_size=1 << 20)
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        close()
        raise ValidationFailed(f"not a readable CSV header: {exc}", path="header") from None
    if header is None:
        close()
        raise ValidationFailed("the file is empty (no header row)", path="header")
    if any(_BAD_TEXT.search(cell) for cell in header):
        close()
        raise ValidationFailed(
            "the header is not UTF-8 text (or holds NUL characters)", path="header"
        )

    def rows() -> Iterator[tuple[int, list[str], bool]]:
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):  # noqa: B007 - read after
                yield number, cells, scanned.suspect
        except csv.Error as exc:
            raise ValidationFailed(
                f"row {number + 1}: not a readable CSV row ({exc}); is the file truncated?",
                path=f"row {number + 1}",
            ) from None
        finally:
            try:
                text.detach()
            except ValueError:
                pass

    return SourceTable(list(header), rows(), close)


def read_header(kind: str, header: list[str]) -> dict[str, int]:
    """Positions of the columns ``kind`` uses, by lower-cased name; every problem at once."""
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        positions.setdefault((raw or "").strip().lower(), index)
    missing = [c for c in L.REQUIRED[kind] if c.lower() not in positions]
    if not missing:
        return positions
    problems = [ErrorDetail("header", f"missing required column '{c}'") for c in missing[:10]]
    if len(missing) > 10:
        problems.append(ErrorDetail("header", f"and {len(missing) - 10} more required columns"))
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        problems.insert(
            0,
            ErrorDetail(
                "header",
                "the header is one column: the file must be comma-separated, as published",
            ),
        )
    else:
        for other in SOURCE_KINDS:
            if other != kind and all(c.lower() in positions for c in L.REQUIRED[other]):
                problems.insert(
                    0,
                    ErrorDetail(
                        "header",
                        f"this is {L.LABELS[other]} file, not {L.LABELS[kind]} file: "
                        f"choose the kind '{other}'",
                    ),
                )
    raise ValidationFailed(errors=problems)


class Rows:
    """Cell access with the published layout's checks: width, encoding, NUL."""

    def __init__(self, header: list[str], positions: dict[str, int], errors: Errors) -> None:
        self.header, self.positions, self.errors = header, positions, errors
        self.width = len(header)

    def pos(self, name: str) -> int | None:
        return self.positions.get(name.lower())

    def checked(
        self, rows: Iterator, used: list[int], out: SourceOutcome
    ) -> Iterator[tuple[int, list[str]]]:
        """The data rows (counted in ``out.rows``) whose shape and text are sound;
        stops once the error list is full. Blank rows are not data."""
        width = self.width
        for number, cells, suspect in rows:
            if not any(cells) or not any(c.strip() for c in cells):
                continue
            out.rows += 1
            if (len(cells) == width and not suspect) or self.shape_ok(number, cells, used, suspect):
                yield number, cells
            elif self.errors.full:
                return

    def parsed(self, number: int, at: int, value: str, parse: f.Parser) -> bool:
        """True when ``parse`` accepts the cell; else the error is added."""
        try:
            parse(value)
        except f.CellError as exc:
            self.errors.add(number, at, self.header[at], str(exc))
            return False
        return True

    def shape_ok(self, number: int, cells: list[str], used: list[int], suspect: bool) -> bool:
        """False (with the error added) for a short or long row or unreadable text."""
        size = len(cells)
        if size < self.width:
            self.errors.add(
                number,
                size,
                self.header[size],
                f"the row ends after {size} of the header's {self.width} cells "
                "(is the file truncated?)",
            )
            return False
        if size > self.width and any(c.strip() for c in cells[self.width :]):
            self.errors.add(
                number, size, "(extra cells)", f"has more cells than the header's {self.width}"
            )
            return False
        # Only a row read after a suspect block (``_Scanned``) can hold unreadable
        # text; then, which column. A column the product does not use may hold anything.
        if suspect and _BAD_TEXT.search("\x1f".join(cells)):
            for i in used:
                if _BAD_TEXT.search(cells[i]):
                    self.errors.add(
                        number, i, self.header[i], "is not UTF-8 text (or holds NUL characters)"
                    )
                    return False
        return True


def _date(value: str) -> dt.date:
    """NPPES dates: MM/DD/YYYY (also YYYY-MM-DD)."""
    try:
        if len(value) == 10 and value[2] == "/" and value[5] == "/":
            return dt.date(int(value[6:]), int(value[:2]), int(value[3:5]))
        return dt.date.fromisoformat(value)
    except ValueError:
        raise f.CellError("must be a date as MM/DD/YYYY") from None


# Credential text as written in NPPES ("M.D.", "MD, PHD", "FNP-C") -> the product's vocabulary.
_CREDENTIAL_WORDS = {
    "MD": "MD",
    "DO": "DO",
    "NP": "NP",
    "FNP": "NP",
    "FNPC": "NP",
    "FNPBC": "NP",
    "APRN": "NP",
    "CRNP": "NP",
    "ANP": "NP",
    "ARNP": "NP",
    "DNP": "NP",
    "PA": "PA",
    "PAC": "PA",
    "PHARMD": "PharmD",
    "RN": "RN",
}
_CREDENTIAL_ORDER = ("MD", "DO", "PharmD", "NP", "PA", "RN")
_CREDENTIAL_SPLIT = re.compile(r"[,;/\s]+")


@functools.lru_cache(maxsize=4096)  # a few thousand spellings cover the whole file
def credential_word(text: str) -> str:
    """The product's credential for an NPPES credential text; "" when blank, else "other"."""
    if not text:
        return ""
    found = set()
    for token in _CREDENTIAL_SPLIT.split(text.upper()):
        word = _CREDENTIAL_WORDS.get(token.replace(".", "").replace("-", ""))
        if word:
            found.add(word)
    for word in _CREDENTIAL_ORDER:
        if word in found:
            return word
    return "other"


def zip5(postal: str) -> str:
    """The 5-digit zip of a US postal code ("021151234" -> "02115"); "" otherwise."""
    head = postal[:5]
    return head if len(head) == 5 and head.isdigit() else ""


def fills(value: str) -> int:
    """A fractional count rounded half up (``Tot_30day_Fills``: 12.5 -> 13)."""
    if value.isdigit():
        return int(value)
    whole, dot, fraction = value.partition(".")
    if dot and whole.isascii() and whole.isdigit() and fraction.isascii() and fraction.isdigit():
        # The published form ("123.4"): half up is "the first decimal is 5 or more".
        rounded = int(whole) + (fraction[0] >= "5")
        if rounded > f.MAX_INT:
            raise f.CellError(f"must be at most {f.MAX_INT}")
        return rounded
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise f.CellError("must be a number") from None
    if not number.is_finite() or number < 0:
        raise f.CellError("must be a number >= 0")
    rounded = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if rounded > f.MAX_INT:
        raise f.CellError(f"must be at most {f.MAX_INT}")
    return rounded


def _npi_ok(npi: str) -> bool:
    """The common case of ``fields.parse_npi`` without its exception (ASCII digits);
    False sends the cell through ``parse_npi`` for the exact message."""
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and f.npi_check_digit_valid(npi)


# -- each kind's rows -> staged tuples --------------------------------------------------


def nppes_rows(rows: Iterator, r: Rows, out: SourceOutcome) -> Iterator[tuple]:
    """(row_no, npi, entity, first, last, credential, state, zip, taxonomy, org, deactivated_on).

    ``entity`` 0 is a deactivated NPI whose record NPPES has emptied (only the
    NPI and the deactivation date remain).
    """
    npi_at, entity_at = r.pos(L.NPPES_NPI), r.pos(L.NPPES_ENTITY)
    org_at, last_at = r.pos(L.NPPES_ORG_NAME), r.pos(L.NPPES_LAST_NAME)
    first_at, cred_at = r.pos(L.NPPES_FIRST_NAME), r.pos(L.NPPES_CREDENTIAL)
    state_at, postal_at = r.pos(L.NPPES_STATE), r.pos(L.NPPES_POSTAL)
    deact_at, react_at = r.pos(L.NPPES_DEACTIVATED), r.pos(L.NPPES_REACTIVATED)
    taxonomy = [
        (r.pos(c), r.pos(s)) for c, s in zip(L.NPPES_TAXONOMY, L.NPPES_PRIMARY, strict=True)
    ]
    used = [npi_at, entity_at, org_at, last_at, first_at, cred_at, state_at, postal_at]
    used += [deact_at, react_at, *(i for pair in taxonomy for i in pair)]
    header, add = r.header, r.errors.add
    # One C call per row for the cells every row needs, and one for the rest.
    key_cells = itemgetter(npi_at, entity_at, deact_at, react_at)
    place_cells = itemgetter(state_at, postal_at)
    person_cells = itemgetter(last_at, first_at, cred_at)
    states = US_STATES
    for number, cells in r.checked(rows, used, out):
        npi, entity, deact, react = key_cells(cells)
        npi = npi.strip()
        ok = _npi_ok(npi) or r.parsed(number, npi_at, npi, f.parse_npi)
        deactivated = reactivated = None
        deact, react = deact.strip(), react.strip()
        if deact or react:
            for at, value, label in ((deact_at, deact, "d"), (react_at, react, "r")):
                if value:
                    try:
                        if label == "d":
                            deactivated = _date(value)
                        else:
                            reactivated = _date(value)
                    except f.CellError as exc:
                        add(number, at, header[at], str(exc))
                        ok = False
            if deactivated is not None and reactivated is not None:
                if reactivated >= deactivated:
                    deactivated = None  # reactivated since
        entity = entity.strip()
        if entity == "1":
            kind = 1
        elif entity == "2":
            kind = 2
        elif entity == "" and deactivated is not None:
            kind = 0
        else:
            add(number, entity_at, header[entity_at], "must be 1 (individual) or 2 (organization)")
            ok = False
        if not ok:
            if r.errors.full:
                break
            continue
        if kind == 0:
            yield (number, npi, 0, "", "", "", "", "", "", "", deactivated)
            continue
        primary = ""
        for code_at, switch_at in taxonomy:
            code = cells[code_at].strip()
            if not code:
                break  # NPPES fills the taxonomy slots from the first
            switch = cells[switch_at].strip().upper() == "Y"
            if not primary or switch:
                primary = code.upper()
                if switch:
                    break
        state, postal = place_cells(cells)
        state = state.strip().upper()
        if state not in states:
            state = ""
        zip_code = zip5(postal.strip())
        if kind == 1:
            last, first, credential = person_cells(cells)
            last, first = last.strip()[:100], first.strip()[:100]
            if not last or not first:
                out.skip("individual without a first or last name")
                continue
            yield (
                number,
                npi,
                1,
                first,
                last,
                credential_word(credential.strip()),
                state,
                zip_code,
                primary,
                "",
                deactivated,
            )
        else:
            org = cells[org_at].strip()[:200]
            if not org:
                out.skip("organization without a name")
                continue
            yield (number, npi, 2, "", "", "", state, zip_code, primary, org, deactivated)


def partd_rows(rows: Iterator, r: Rows, out: SourceOutcome) -> Iterator[tuple]:
    """(row_no, npi, brand key (upper case), trx or None when suppressed)."""
    npi_at, brand_at, fills_at = r.pos(L.PARTD_NPI), r.pos(L.PARTD_BRAND), r.pos(L.PARTD_FILLS)
    used = [npi_at, brand_at, fills_at]
    header, add = r.header, r.errors.add
    cells_of = itemgetter(npi_at, brand_at, fills_at)
    valid_npi = None  # a prescriber's rows are consecutive: check each NPI once
    suppressed = 0
    for number, cells in r.checked(rows, used, out):
        npi, brand, value = cells_of(cells)
        npi = npi.strip()
        ok = npi == valid_npi or _npi_ok(npi) or r.parsed(number, npi_at, npi, f.parse_npi)
        if ok:
            valid_npi = npi
        value = value.strip()
        trx = None
        if value:
            try:
                trx = fills(value)
            except f.CellError as exc:
                add(number, fills_at, header[fills_at], str(exc))
                ok = False
        if not ok:
            if r.errors.full:
                break
            continue
        brand = brand.strip().upper()
        if not brand:
            out.skip("no brand name")
            continue
        if trx is None:
            suppressed += 1
        yield (number, npi, brand[:64], trx)
    out.note("suppressed Tot_30day_Fills (imported as missing)", suppressed)


_SPECIALTY = f.vocabulary(Specialty.values)


def taxonomy_rows(rows: Iterator, r: Rows, out: SourceOutcome) -> Iterator[tuple]:
    """(row_no, code, grouping, classification, specialization, display_name, specialty or "")."""
    at = {c: r.pos(c) for c in ["Code", "Grouping", "Classification", "Specialization"]}
    display_at, specialty_at = r.pos("Display Name"), r.pos(L.NUCC_SPECIALTY)
    used = [i for i in [*at.values(), display_at, specialty_at] if i is not None]
    header, add = r.header, r.errors.add
    for number, cells in r.checked(rows, used, out):
        code = cells[at["Code"]].strip().upper()
        ok = True
        if not _TAXONOMY_CODE.fullmatch(code):
            add(number, at["Code"], header[at["Code"]], "must be a 10-character taxonomy code")
            ok = False
        specialty = ""
        if specialty_at is not None and cells[specialty_at].strip():
            try:
                specialty = _SPECIALTY(cells[specialty_at].strip())
            except f.CellError as exc:
                add(number, specialty_at, header[specialty_at], str(exc))
                ok = False
        if not ok:
            if r.errors.full:
                break
            continue
        texts = [
            cells[at[c]].strip()[:200] for c in ("Grouping", "Classification", "Specialization")
        ]
        display = cells[display_at].strip()[:300] if display_at is not None else ""
        yield (number, code, *texts, display, specialty)


def alignment_rows(rows: Iterator, r: Rows, out: SourceOutcome) -> Iterator[tuple]:
    """(row_no, zip (3 or 5 digits), territory, territory name)."""
    zip_at, territory_at, name_at = r.pos("zip"), r.pos("territory"), r.pos("territory_name")
    used = [i for i in (zip_at, territory_at, name_at) if i is not None]
    header, add = r.header, r.errors.add
    for number, cells in r.checked(rows, used, out):
        zip_code, territory = cells[zip_at].strip(), cells[territory_at].strip()
        ok = True
        if not _ZIP_PREFIX.fullmatch(zip_code):
            add(number, zip_at, header[zip_at], "must be a zip3 (3 digits) or a zip5 (5 digits)")
            ok = False
        if not territory or len(territory) > 64:
            add(number, territory_at, header[territory_at], "must be 1-64 characters")
            ok = False
        if not ok:
            if r.errors.full:
                break
            continue
        name = cells[name_at].strip()[:200] if name_at is not None else ""
        yield (number, zip_code, territory, name)


PARSERS: dict[str, Callable[[Iterator, Rows, SourceOutcome], Iterator[tuple]]] = {
    "nppes": nppes_rows,
    "partd": partd_rows,
    "taxonomy": taxonomy_rows,
    "alignment": alignment_rows,
}
