"""A JSON parser that bounds nesting before parsing and refuses NUL characters.

JSON nested thousands of levels deep would exhaust Python's recursion inside
``json.loads`` (a 500); PostgreSQL refuses NUL in text (another 500). Both are
answered 400 with the error shape of docs/api.md, before any view runs
(docs/governance.md, "Integrity and access controls").
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Strings (skipped whole, so brackets inside them do not count) or a bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_NUL_ESCAPE = re.compile(r"\\u0000", re.IGNORECASE)


def nesting_depth(text: str, limit: int) -> int:
    """The deepest nesting of arrays/objects in ``text``, stopping once it passes ``limit``."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class UnsafeJSON(ValueError):
    """JSON refused before parsing: NUL characters or nesting past JSON_MAX_DEPTH."""


def loads_bounded(text: str):
    """``json.loads`` for JSON typed into a form field: same limits as the API parser.

    Raises UnsafeJSON (NUL, too deep) or json.JSONDecodeError, both ValueErrors.
    """
    if "\x00" in text or _NUL_ESCAPE.search(text):
        raise UnsafeJSON("NUL characters are not accepted")
    limit = settings.JSON_MAX_DEPTH
    if nesting_depth(text, limit) > limit:
        raise UnsafeJSON(f"JSON nested deeper than {limit} levels is not accepted")
    return json.loads(text, parse_constant=_refuse_constant)


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit (JSON_MAX_DEPTH) and no NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("JSON parse error: the body is not UTF-8") from None
        if not text.strip():
            return {}
        try:
            return loads_bounded(text)
        except UnsafeJSON as exc:
            raise ParseError(str(exc)) from None
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
