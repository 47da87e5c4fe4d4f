"""Cell rules of docs/imports.md: each parser takes a trimmed, non-blank string and returns
the normalised value, or raises ``CellError`` with the message users see.

These are the only implementation of the rules; the file import and the
interactions API both call them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from core.time import EARLIEST, LATEST, RANGE_MESSAGE
from customers.vocabularies import US_STATES

# PositiveIntegerField's range on every backend Django supports.
MAX_INT = 2_147_483_647
# CustomerAttribute.number is DECIMAL(38, 10): at most 28 digits before the point.
_MAX_ATTR_NUMBER = Decimal(10) ** 28
_NUMBER_START = frozenset("+-.0123456789")

_DIGITS10 = re.compile(r"\d{10}")
_ZIP = re.compile(r"\d{5}")
_INT = re.compile(r"[+-]?\d+")
_MONTH = re.compile(r"(\d{4})-(\d{2})")

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


class CellError(ValueError):
    """A cell breaks a rule; ``str(error)`` is the message for ``row N: column: message``."""


Parser = Callable[[str], Any]


# Luhn doubling of one digit, by digit: 0->0, 1->2, ..., 5->1 (10-9), ..., 9->9.
_DOUBLED = {d: (2 * d - 9 if 2 * d > 9 else 2 * d) for d in range(10)}
# What each pair of NPI digits adds: the first digit doubled, the second as is.
_PAIR = {f"{a}{b}": _DOUBLED[a] + b for a in range(10) for b in range(10)}
# "80840": 8 + (0 doubled) + 8 + (4 doubled) + 0.
_PREFIX_SUM = 24


def npi_check_digit_valid(npi: str) -> bool:
    """Luhn check over "80840" + the NPI's ten digits (the last is the check digit).

    From the right, every second digit is doubled; in the 15 digits of
    "80840" + NPI those are the odd positions from the left, so the NPI's
    digits pair up as (doubled, plain). (Table lookups by pair rather than
    arithmetic: this runs once per row of every import.)
    """
    pair = _PAIR
    total = (
        _PREFIX_SUM
        + pair[npi[0:2]]
        + pair[npi[2:4]]
        + pair[npi[4:6]]
        + pair[npi[6:8]]
        + pair[npi[8:10]]
    )
    return total % 10 == 0


def parse_npi(value: str) -> str:
    if not (value.isascii() and _DIGITS10.fullmatch(value)):
        raise CellError("must be 10 digits")
    if not npi_check_digit_valid(value):
        raise CellError("invalid NPI check digit")
    return value


def text(min_len: int = 1, max_len: int = 200) -> Parser:
    """A free text of ``min_len``..``max_len`` characters."""

    def parse(value: str) -> str:
        if len(value) < min_len:
            raise CellError(f"must be at least {min_len} characters")
        if len(value) > max_len:
            raise CellError(f"must be at most {max_len} characters")
        return value

    return parse


def normalise_word(value: str) -> str:
    """Lower case, spaces and hyphens as underscores: "Family Medicine" -> family_medicine."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def vocabulary(values: Iterable[str], *, case_only: bool = False) -> Parser:
    """One of a controlled vocabulary, matched after normalisation.

    ``case_only`` matches case-insensitively but keeps the canonical spelling
    (credentials: MD, DO, NP, PA, PharmD, RN, other).
    """
    allowed = list(values)
    if case_only:
        lookup = {v.lower(): v for v in allowed}
        key: Callable[[str], str] = str.lower
    else:
        lookup = {v: v for v in allowed}
        key = normalise_word
    listing = ", ".join(allowed)

    def parse(value: str) -> str:
        # Most files already spell values canonically: try that before normalising.
        found = lookup.get(value)
        if found is None:
            found = lookup.get(key(value))
        if found is None:
            raise CellError(f"'{value}' is not one of: {listing}")
        return found

    return parse


def integer(min_value: int = 0, max_value: int = MAX_INT) -> Parser:
    def parse(value: str) -> int:
        if not _INT.fullmatch(value):
            raise CellError("must be a whole number")
        number = int(value)
        if number < min_value:
            raise CellError(f"must be at least {min_value}")
        if number > max_value:
            raise CellError(f"must be at most {max_value}")
        return number

    return parse


def parse_state(value: str) -> str:
    code = value.upper()
    if code not in US_STATES:
        raise CellError(f"'{value}' is not a two-letter US state or territory code")
    return code


def parse_zip(value: str) -> str:
    if not _ZIP.fullmatch(value):
        raise CellError("must be 5 digits")
    return value


def parse_bool(value: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("must be true or false")


def parse_month(value: str) -> dt.date:
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise CellError("must be a month as YYYY-MM")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def parse_datetime(value: str) -> dt.datetime:
    """ISO 8601 date-time with an offset or Z, returned in UTC; naive values are refused."""
    if len(value) < 16 or value[4:5] != "-" or value[10:11] not in ("T", "t", " "):
        raise CellError("must be an ISO 8601 date-time with an offset or Z")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CellError("must be an ISO 8601 date-time with an offset or Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CellError("needs a time zone offset or Z (naive date-times are refused)")
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise CellError(RANGE_MESSAGE)
    return moment


def code(max_len: int = 64) -> Parser:
    """An identifier-like code (territory, asset, account id): 1..max_len characters."""
    return text(1, max_len)


def attribute_number(value: str) -> Decimal | None:
    """The decimal value of an attribute string, or None when it is not a finite number."""
    value = value.strip()
    if not value or value[0] not in _NUMBER_START:
        return None  # most attribute values are words: skip the exception path
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= _MAX_ATTR_NUMBER:
        return None
    if number.as_tuple().exponent < -10:
        # The column keeps 10 decimal places; round here so both backends agree.
        with localcontext() as ctx:
            ctx.prec = 60
            number = number.quantize(Decimal("1e-10"))
    return number
