"""The segment rule engine: field catalog, validation and SQL compilation (docs/rules.md).

Pure computation, no HTTP or Celery::

    validate_rule(rule, path="entry_rule", segment_exists=...)   # raises ValidationFailed
    Customer.objects.filter(customer_filter(rule, as_of=..., segment_version_id=...))

Choices made where docs/rules.md is silent
-------------------------------------

Depth and size
    A bare condition has depth 1; every group (``all``, ``any``, ``not``)
    adds 1 to the depth of its deepest child, so ``{"not": {"all": [C]}}`` has
    depth 3. Depth above 32 is rejected (at the path of the group whose
    children would exceed it), as are more than 500 conditions (field, event,
    rx and segment nodes; groups are not counted). An empty group has depth 1.

Validation
    Every error is reported, each at the JSON path of the offending node or
    key (``entry_rule.all[0].op``, ``...value[1]``, ``...event.channel``,
    ``...count.value``, ``...unknown_key``). A node carrying two kinds (e.g.
    both ``all`` and ``field``) is an error at the node's path. Numbers are
    JSON ints or finite floats; booleans are never numbers. ``within_days``,
    ``months`` and count values must be JSON integers (``1.0`` is refused).
    ``rx.product`` and event ``asset`` must be non-empty strings.
    Vocabulary checks apply to eq/ne/in/not_in values; ``contains`` takes any
    string, even on a vocabulary field (it is a substring search). An empty
    string is a valid value for ``eq``/``in`` on a free-text field but matches
    nobody (a present value is never empty); ``contains ""`` matches every
    present value. ``between [lo, hi]`` with lo > hi is valid and matches
    nobody. For ``attr.`` paths, ``in``/``not_in`` lists and ``between``
    bounds must be all numbers or all strings (a mixed list is refused).

Numbers on integer fields (``decile``, ``account.bed_count``)
    Any number is accepted and compared numerically: ``decile gte 7.5`` is
    ``decile >= 8``, ``decile eq 7.5`` matches nobody (and ``ne 7.5`` every
    customer). The same holds for event counts and rx sums (which are
    integers), so ``sum gt 2.5`` is ``sum >= 3``.

Booleans
    ``email_opt_out`` is never missing: ``is_set`` is true for everyone.

Strings
    eq/ne/in/not_in compare exactly (case-sensitive, byte for byte).
    ``contains`` is a case-insensitive literal substring test: both sides go
    through Unicode ``lower()`` (PostgreSQL's LOWER under a UTF-8 locale; on
    SQLite, Python's ``str.lower`` registered as a SQL function, because
    SQLite's LOWER folds ASCII only) and are compared with
    ``STRPOS``/``INSTR``, so ``%`` and ``_`` in the value are literal.
    Ordering comparisons on ``attr.`` strings use code-point order on both
    databases (``COLLATE "C"`` on PostgreSQL, SQLite's default BINARY).

attr. paths
    A row whose value is ``""`` is missing. Numeric comparison (the rule's
    value a number; every element of an ``in`` list; both ``between`` bounds)
    reads ``CustomerAttribute.number`` and a NULL number (the value does not
    parse as a decimal) is missing for that condition. Otherwise the stored
    string is compared, so ``attr.x eq "5"`` does not match ``"5.0"`` but
    ``attr.x eq 5`` does.

Time
    ``as_of`` is converted to UTC (a naive value is taken as UTC). Event
    windows are ``(as_of - within_days * 86400 s, as_of]``. Rx windows are
    calendar months in UTC: ``months = n`` covers the month of ``as_of`` and
    the ``n - 1`` before it; facts dated on any day of a month count for that
    month. Windows reaching before year 1 are unbounded below.

Segment references
    ``segment_version_id(key)`` returning None makes the reference false.
"""

from .accounts import account_filter
from .catalog import (
    CMP_OPS,
    EVENT_KEYS,
    FIELD_OPS,
    OPS_BY_TYPE,
    RX_METRICS,
    FieldSpec,
    field_catalog,
    get_account_field,
    get_field,
    ops_for,
)
from .compile import compile_rule, customer_filter, on_own_columns
from .fields import value_present
from .implied import entry_rules_out_exit
from .validate import MAX_CONDITIONS, MAX_DEPTH, referenced_segments, validate_rule

__all__ = [
    "account_filter",
    "get_account_field",
    "CMP_OPS",
    "EVENT_KEYS",
    "FIELD_OPS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "OPS_BY_TYPE",
    "RX_METRICS",
    "FieldSpec",
    "compile_rule",
    "customer_filter",
    "entry_rules_out_exit",
    "field_catalog",
    "get_field",
    "on_own_columns",
    "ops_for",
    "referenced_segments",
    "validate_rule",
    "value_present",
]
