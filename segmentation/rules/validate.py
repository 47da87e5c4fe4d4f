"""Validation of rule documents against the grammar of docs/rules.md.

``validate_rule`` walks the whole document and collects every error it finds
(not just the first), each naming the JSON path of the offending node, e.g.
``entry_rule.all[2].any[0].op``. See the package docstring for the choices
made where docs/rules.md is silent.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from core.errors import ErrorDetail, ValidationFailed
from customers.vocabularies import FormularyStatus

from .catalog import (
    ATTR_PREFIX,
    BOOLEAN,
    CMP_OPS,
    DATE,
    DECIMAL,
    EVENT_KEYS,
    FIELD_OPS,
    INTEGER,
    ORDER_OPS,
    RX_METRICS,
    STRING,
    FieldSpec,
    get_account_field,
    get_field,
    ops_for,
)

MAX_DEPTH = 32
MAX_CONDITIONS = 500
SEGMENT_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

GROUP_KEYS = ("all", "any", "not")
CONDITION_KEYS = ("field", "event", "rx", "segment", "account_segment", "members", "coverage")
NODE_KEYS = GROUP_KEYS + CONDITION_KEYS
# Conditions that only one unit's rules have (docs/rules.md, "Account segments").
UNIT_ONLY = {"account_segment": "customer", "members": "account", "coverage": "account"}
COVERAGE_STATUS_OPS = ("in", "not_in")
ALLOWED_KEYS: dict[str, frozenset[str]] = {
    "all": frozenset({"all"}),
    "any": frozenset({"any"}),
    "not": frozenset({"not"}),
    "field": frozenset({"field", "op", "value"}),
    "event": frozenset({"event", "within_days", "count"}),
    "rx": frozenset({"rx", "metric", "months", "sum"}),
    "segment": frozenset({"segment"}),
    "account_segment": frozenset({"account_segment"}),
    "members": frozenset({"members", "count", "share"}),
    "coverage": frozenset({"coverage", "status", "lives"}),
}


def is_number(value: Any) -> bool:
    """True for a finite JSON number (int or float); bool is not a number."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def is_int(value: Any) -> bool:
    """True for a JSON integer (not a bool, not a float such as 1.0)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_iso_date(value: Any) -> bool:
    """True for a ``YYYY-MM-DD`` string naming a real calendar date."""

    if not isinstance(value, str) or not DATE_RE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _expected(options: tuple[str, ...] | list[str]) -> str:
    return ", ".join(options)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _Validator:
    def __init__(
        self,
        segment_exists: Callable[[str], bool],
        unit: str = "customer",
        segment_unit: Callable[[str], str | None] | None = None,
    ) -> None:
        self.segment_exists = segment_exists
        self.segment_unit = segment_unit
        self.unit = unit
        self.errors: list[ErrorDetail] = []
        self.conditions = 0

    def error(self, path: str, message: str) -> None:
        self.errors.append(ErrorDetail(path=path, message=message))

    # -- tree ---------------------------------------------------------------

    def rule(self, node: Any, path: str, depth: int) -> None:
        """Validate one node; ``depth`` is its depth (the root is 1)."""
        if not isinstance(node, dict):
            self.error(path, f"expected a rule object, got {_type_name(node)}")
            return
        kinds = [k for k in NODE_KEYS if k in node]
        if not kinds:
            unknown = sorted(str(k) for k in node)
            if unknown:
                for key in unknown:
                    self.error(f"{path}.{key}", f"unknown key '{key}'")
            self.error(path, f"expected a group or a condition (one of {_expected(NODE_KEYS)})")
            return
        if len(kinds) > 1:
            self.error(
                path,
                f"a rule node has exactly one of {_expected(NODE_KEYS)}; found {_expected(kinds)}",
            )
            return
        kind = kinds[0]
        if kind in UNIT_ONLY and UNIT_ONLY[kind] != self.unit:
            self.error(
                path,
                f"'{kind}' conditions apply only in {UNIT_ONLY[kind]} segments "
                f"(this rule is for a {self.unit} segment)",
            )
            return
        for key in node:
            if key not in ALLOWED_KEYS[kind]:
                self.error(f"{path}.{key}", f"unknown key '{key}' in a {kind} node")
        if kind in GROUP_KEYS:
            if depth + 1 > MAX_DEPTH and self._has_child(node, kind):
                self.error(path, f"rule nesting deeper than {MAX_DEPTH} levels")
                return
            if kind == "not":
                self.rule(node["not"], f"{path}.not", depth + 1)
                return
            children = node[kind]
            if not isinstance(children, list):
                self.error(
                    f"{path}.{kind}", f"expected a list of rules, got {_type_name(children)}"
                )
                return
            for i, child in enumerate(children):
                self.rule(child, f"{path}.{kind}[{i}]", depth + 1)
            return
        self.conditions += 1
        if kind == "members":
            self.condition_members(node, path, depth)
            return
        getattr(self, f"condition_{kind}")(node, path)

    @staticmethod
    def _has_child(node: dict, kind: str) -> bool:
        if kind == "not":
            return True
        children = node[kind]
        return isinstance(children, list) and len(children) > 0

    # -- field conditions -----------------------------------------------------

    def condition_field(self, node: dict, path: str) -> None:
        field_path = node["field"]
        spec: FieldSpec | None = None
        if not isinstance(field_path, str):
            self.error(
                f"{path}.field", f"expected a field path string, got {_type_name(field_path)}"
            )
        elif self.unit == "account":
            spec = get_account_field(field_path)
            if spec is None:
                self.error(
                    f"{path}.field",
                    f"unknown account field '{field_path}' (see GET /api/v1/fields/?unit=account)",
                )
        else:
            spec = get_field(field_path)
            if spec is None:
                if field_path.startswith(ATTR_PREFIX):
                    self.error(
                        f"{path}.field",
                        f"invalid attribute key in '{field_path}' (letters, digits, _ . -; "
                        "at most 100 characters)",
                    )
                else:
                    self.error(
                        f"{path}.field", f"unknown field '{field_path}' (see GET /api/v1/fields/)"
                    )
        if "op" not in node:
            self.error(f"{path}.op", "missing key 'op'")
            return
        op = node["op"]
        if not isinstance(op, str) or op not in FIELD_OPS:
            shown = op if isinstance(op, str) else _type_name(op)
            self.error(
                f"{path}.op", f"unknown operator '{shown}' (expected one of {_expected(FIELD_OPS)})"
            )
            return
        if spec is None:
            return
        if op not in ops_for(spec):
            if op == "contains":
                why = "applies only to string fields"
            elif op in ORDER_OPS:
                why = "applies only to integer, decimal and date fields and attr. paths"
            else:
                why = f"does not apply to {spec.type} fields"
            self.error(
                f"{path}.op",
                f"operator '{op}' {why}; '{spec.path}' is a {spec.type} field "
                f"(expected one of {_expected(ops_for(spec))})",
            )
            return
        vpath = f"{path}.value"
        if op in ("is_set", "is_not_set"):
            if node.get("value") is not None:
                self.error(vpath, f"operator '{op}' takes no value (omit it or use null)")
            return
        if "value" not in node:
            self.error(vpath, f"missing key 'value' (operator '{op}' needs one)")
            return
        value = node["value"]
        if op in ("eq", "ne"):
            self.scalar(spec, value, vpath, op)
        elif op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.error(
                    vpath, f"operator '{op}' needs a non-empty list, got {_type_name(value)}"
                )
                return
            for i, item in enumerate(value):
                self.scalar(spec, item, f"{vpath}[{i}]", op)
            if spec.is_attr:
                self.same_kind(value, vpath)
        elif op in ("gt", "gte", "lt", "lte"):
            self.ordered(spec, value, vpath, op)
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                self.error(vpath, "operator 'between' needs a list [lo, hi]")
                return
            for i, item in enumerate(value):
                self.ordered(spec, item, f"{vpath}[{i}]", op)
            if spec.is_attr:
                self.same_kind(value, vpath)
        elif op == "contains":
            if not isinstance(value, str):
                self.error(vpath, f"operator 'contains' needs a string, got {_type_name(value)}")

    def same_kind(self, values: list, vpath: str) -> None:
        """attr. lists are all numbers (numeric comparison) or all strings."""
        kinds = {is_number(v) for v in values if is_number(v) or isinstance(v, str)}
        if len(kinds) > 1:
            self.error(
                vpath,
                "for attr. paths, list values must be all numbers (compared as decimals) "
                "or all strings",
            )

    def scalar(self, spec: FieldSpec, value: Any, vpath: str, op: str) -> None:
        """A value for eq/ne/in/not_in."""
        if spec.is_attr:
            if not (isinstance(value, str) or is_number(value)):
                self.error(vpath, f"expected a string or a number, got {_type_name(value)}")
            return
        if spec.type == STRING:
            if not isinstance(value, str):
                self.error(vpath, f"expected a string, got {_type_name(value)}")
            elif spec.allowed_values is not None and value not in spec.allowed_values:
                self.error(
                    vpath,
                    f"'{value}' is not a {spec.path} value "
                    f"(expected one of {_expected(spec.allowed_values)})",
                )
        elif spec.type in (INTEGER, DECIMAL):
            if not is_number(value):
                self.error(vpath, f"expected a number, got {_type_name(value)}")
        elif spec.type == BOOLEAN:
            if not isinstance(value, bool):
                self.error(vpath, f"expected true or false, got {_type_name(value)}")
        elif spec.type == DATE:
            if not is_iso_date(value):
                self.error(vpath, "expected an ISO date (YYYY-MM-DD)")

    def ordered(self, spec: FieldSpec, value: Any, vpath: str, op: str) -> None:
        """A value for gt/gte/lt/lte/between."""
        if spec.is_attr:
            if not (isinstance(value, str) or is_number(value)):
                self.error(vpath, f"expected a number or a string, got {_type_name(value)}")
        elif spec.type in (INTEGER, DECIMAL):
            if not is_number(value):
                self.error(vpath, f"expected a number, got {_type_name(value)}")
        elif spec.type == DATE:
            if not is_iso_date(value):
                self.error(vpath, "expected an ISO date (YYYY-MM-DD)")

    # -- event conditions -----------------------------------------------------

    def condition_event(self, node: dict, path: str) -> None:
        keys = node["event"]
        epath = f"{path}.event"
        if not isinstance(keys, dict):
            self.error(epath, f"expected an object of event keys, got {_type_name(keys)}")
        else:
            for key, value in keys.items():
                kpath = f"{epath}.{key}"
                if key not in EVENT_KEYS:
                    self.error(
                        kpath,
                        f"unknown event key '{key}' "
                        f"(expected one of {_expected(list(EVENT_KEYS))})",
                    )
                    continue
                vocabulary = EVENT_KEYS[key]
                if not isinstance(value, str):
                    self.error(kpath, f"expected a string, got {_type_name(value)}")
                elif vocabulary is None:
                    if not value:
                        self.error(kpath, f"{key} must be a non-empty string")
                elif value not in vocabulary:
                    self.error(
                        kpath,
                        f"unknown {key} '{value}' (expected one of {_expected(vocabulary)})",
                    )
        if "within_days" in node:
            days = node["within_days"]
            if not is_int(days) or days < 1:
                self.error(f"{path}.within_days", "within_days must be an integer >= 1")
        if "count" in node:
            self.cmp(node["count"], f"{path}.count", integer=True)

    # -- rx conditions --------------------------------------------------------

    def condition_rx(self, node: dict, path: str) -> None:
        rx = node["rx"]
        rpath = f"{path}.rx"
        if not isinstance(rx, dict):
            self.error(rpath, f"expected an object, got {_type_name(rx)}")
        else:
            for key, value in rx.items():
                if key != "product":
                    self.error(f"{rpath}.{key}", f"unknown key '{key}' (expected product)")
                elif not isinstance(value, str) or not value:
                    self.error(f"{rpath}.product", "product must be a non-empty string")
        if "metric" not in node:
            self.error(f"{path}.metric", f"missing key 'metric' (one of {_expected(RX_METRICS)})")
        elif node["metric"] not in RX_METRICS or not isinstance(node["metric"], str):
            metric = node["metric"]
            shown = metric if isinstance(metric, str) else _type_name(metric)
            self.error(
                f"{path}.metric",
                f"unknown metric '{shown}' (expected one of {_expected(RX_METRICS)})",
            )
        if "months" in node:
            months = node["months"]
            if not is_int(months) or months < 1:
                self.error(f"{path}.months", "months must be an integer >= 1")
        if "sum" not in node:
            self.error(f"{path}.sum", "missing key 'sum' (a comparison {op, value})")
        else:
            self.cmp(node["sum"], f"{path}.sum", integer=False)

    def cmp(self, cmp: Any, path: str, *, integer: bool) -> None:
        if not isinstance(cmp, dict):
            self.error(path, f"expected a comparison object {{op, value}}, got {_type_name(cmp)}")
            return
        for key in cmp:
            if key not in ("op", "value"):
                self.error(f"{path}.{key}", f"unknown key '{key}' (expected op, value)")
        if "op" not in cmp:
            self.error(f"{path}.op", "missing key 'op'")
        else:
            op = cmp["op"]
            if not isinstance(op, str) or op not in CMP_OPS:
                shown = op if isinstance(op, str) else _type_name(op)
                self.error(
                    f"{path}.op",
                    f"unknown operator '{shown}' (expected one of {_expected(CMP_OPS)})",
                )
        if "value" not in cmp:
            self.error(f"{path}.value", "missing key 'value'")
            return
        value = cmp["value"]
        if integer:
            if not is_int(value) or value < 0:
                self.error(f"{path}.value", "count value must be an integer >= 0")
        elif not is_number(value):
            self.error(f"{path}.value", f"expected a number, got {_type_name(value)}")

    # -- segment references ---------------------------------------------------

    def condition_segment(self, node: dict, path: str) -> None:
        self.reference(node["segment"], f"{path}.segment", self.unit)

    def condition_account_segment(self, node: dict, path: str) -> None:
        self.reference(node["account_segment"], f"{path}.account_segment", "account")

    def reference(self, key: Any, spath: str, unit: str) -> None:
        """A reference to a segment of ``unit`` (``segment_unit`` says each key's unit)."""
        if not isinstance(key, str) or not SEGMENT_KEY_RE.match(key):
            self.error(spath, "invalid segment key (expected ^[a-z0-9][a-z0-9_-]{0,63}$)")
            return
        found = self.segment_unit(key) if self.segment_unit is not None else None
        if found is None and not self.segment_exists(key):
            self.error(spath, f"unknown segment '{key}'")
        elif found is not None and found != unit:
            self.error(spath, f"'{key}' is a {found} segment; expected a {unit} segment")

    # -- account segments: members and coverage -------------------------------

    def condition_members(self, node: dict, path: str, depth: int) -> None:
        """``{"members": RULE, "count"?, "share"?}``: RULE is a customer rule."""
        inner = _Validator(self.segment_exists, "customer", self.segment_unit)
        inner.rule(node["members"], f"{path}.members", depth + 1)
        self.errors.extend(inner.errors)
        self.conditions += inner.conditions
        if "count" in node:
            self.cmp(node["count"], f"{path}.count", integer=True)
        if "share" in node:
            self.cmp(node["share"], f"{path}.share", integer=False)

    def condition_coverage(self, node: dict, path: str) -> None:
        cov = node["coverage"]
        cpath = f"{path}.coverage"
        if not isinstance(cov, dict):
            self.error(cpath, f"expected an object {{product}}, got {_type_name(cov)}")
        else:
            for key in cov:
                if key != "product":
                    self.error(f"{cpath}.{key}", f"unknown key '{key}' (expected product)")
            product = cov.get("product")
            if not isinstance(product, str) or not product:
                self.error(f"{cpath}.product", "product must be a non-empty string")
        if "status" in node:
            self.coverage_status(node["status"], f"{path}.status")
        if "lives" in node:
            self.cmp(node["lives"], f"{path}.lives", integer=False)

    def coverage_status(self, status: Any, spath: str) -> None:
        if not isinstance(status, dict):
            self.error(spath, f"expected an object {{op, value}}, got {_type_name(status)}")
            return
        for key in status:
            if key not in ("op", "value"):
                self.error(f"{spath}.{key}", f"unknown key '{key}' (expected op, value)")
        op = status.get("op")
        if op not in COVERAGE_STATUS_OPS:
            shown = op if isinstance(op, str) else _type_name(op)
            self.error(f"{spath}.op", f"unknown operator '{shown}' (expected one of in, not_in)")
        values = status.get("value")
        if not isinstance(values, list) or not values:
            self.error(f"{spath}.value", "expected a non-empty list of formulary statuses")
            return
        allowed = tuple(FormularyStatus.values)
        for i, value in enumerate(values):
            if value not in allowed:
                shown = value if isinstance(value, str) else _type_name(value)
                self.error(
                    f"{spath}.value[{i}]",
                    f"'{shown}' is not a formulary status (expected one of {_expected(allowed)})",
                )


def validate_rule(
    rule: Any,
    *,
    path: str = "entry_rule",
    segment_exists: Callable[[str], bool],
    unit: str = "customer",
    segment_unit: Callable[[str], str | None] | None = None,
) -> None:
    """Check ``rule`` against the grammar of docs/rules.md; raise ValidationFailed with every error.

    ``path`` prefixes every error path (``entry_rule`` or ``exit_rule``);
    ``segment_exists(key)`` says whether a referenced segment key exists
    (cycles are the caller's concern: see :func:`referenced_segments`).
    ``unit`` is the segment's unit (``"account"``: docs/rules.md, "Account
    segments"); ``segment_unit(key)``, when given, names a referenced
    segment's unit (None: unknown), so a reference to a segment of the other
    unit is refused.
    """
    validator = _Validator(segment_exists, unit, segment_unit)
    validator.rule(rule, path, 1)
    if validator.conditions > MAX_CONDITIONS:
        validator.errors.insert(
            0,
            ErrorDetail(
                path=path,
                message=f"too many conditions: {validator.conditions} (at most {MAX_CONDITIONS})",
            ),
        )
    if validator.errors:
        raise ValidationFailed(errors=validator.errors)


def referenced_segments(rule: Any) -> set[str]:
    """The segment keys referenced anywhere in ``rule`` (tolerates invalid documents)."""
    found: set[str] = set()
    stack = [rule]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for ref in ("segment", "account_segment"):
            if isinstance(node.get(ref), str):
                found.add(node[ref])
        if "members" in node:
            stack.append(node["members"])
        for key in ("all", "any"):
            children = node.get(key)
            if isinstance(children, list):
                stack.extend(children)
        if "not" in node:
            stack.append(node["not"])
    return found
