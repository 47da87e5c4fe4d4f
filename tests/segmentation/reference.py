"""A pure-Python reference evaluator of docs/rules.md, written from the contract alone.

It shares no code with ``segmentation.rules``: it loads the data into plain
Python structures and evaluates a rule for one customer at a time, the slow
obvious way, so property tests can compare the SQL engine against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MISSING = object()

CUSTOMER_PATHS = {
    "npi": "npi",
    "first_name": "first_name",
    "last_name": "last_name",
    "credential": "credential",
    "specialty": "specialty",
    "role": "role",
    "practice_setting": "practice_setting",
    "account_id": "account_id",
    "state": "state",
    "zip": "zip",
    "territory": "territory_id",
    "decile": "decile",
    "email_opt_out": "email_opt_out",
}
ACCOUNT_PATHS = {
    "account_id": "account_id",
    "name": "name",
    "account_type": "account_type",
    "parent_account_id": "parent_id",
    "state": "state",
    "zip": "zip",
    "territory": "territory_id",
    "bed_count": "bed_count",
    "formulary_status": "formulary_status",
}


@dataclass
class World:
    """Every fact a rule can read, as plain Python data."""

    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    attributes: dict[int, dict[str, str]] = field(default_factory=dict)
    interactions: list[dict[str, Any]] = field(default_factory=list)
    rx: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, set[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, members: dict[str, set[int]] | None = None) -> World:
        """Read the whole (small) test database."""
        from customers.models import Account, Customer, CustomerAttribute, Interaction, RxFact

        world = cls(members=members or {})
        for row in Customer.objects.values():
            world.customers[row["id"]] = row
        for row in Account.objects.values():
            world.accounts[row["account_id"]] = row
        for row in CustomerAttribute.objects.values("customer_id", "key", "value"):
            world.attributes.setdefault(row["customer_id"], {})[row["key"]] = row["value"]
        world.interactions = list(Interaction.objects.values())
        world.rx = list(RxFact.objects.values())
        return world


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _as_decimal(v: Any) -> Decimal:
    # A JSON number means the decimal it spells.
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


def _parse_decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class Evaluator:
    def __init__(self, world: World, as_of: dt.datetime) -> None:
        self.world = world
        self.as_of = as_of.astimezone(dt.UTC)

    def members(self, rule: dict) -> set[int]:
        return {cid for cid in self.world.customers if self.holds(rule, cid)}

    # -- tree
    def holds(self, rule: dict, cid: int) -> bool:
        if "all" in rule:
            return all(self.holds(r, cid) for r in rule["all"])
        if "any" in rule:
            return any(self.holds(r, cid) for r in rule["any"])
        if "not" in rule:
            return not self.holds(rule["not"], cid)
        if "field" in rule:
            return self.field(rule, cid)
        if "event" in rule:
            return self.event(rule, cid)
        if "rx" in rule:
            return self.rx(rule, cid)
        if "segment" in rule:
            return cid in self.world.members.get(rule["segment"], set())
        raise ValueError(rule)

    # -- fields
    def raw_value(self, path: str, cid: int) -> Any:
        customer = self.world.customers[cid]
        if path.startswith("attr."):
            value = self.world.attributes.get(cid, {}).get(path[5:], MISSING)
        elif path.startswith("account."):
            account_id = customer["account_id"]
            if account_id is None:
                return MISSING
            value = self.world.accounts[account_id][ACCOUNT_PATHS[path[8:]]]
        else:
            value = customer[CUSTOMER_PATHS[path]]
        if value is None or value == "":
            return MISSING
        return value

    def field(self, rule: dict, cid: int) -> bool:
        op = rule["op"]
        negated = {"ne": "eq", "not_in": "in", "is_not_set": "is_set"}
        if op in negated:
            return not self.field({**rule, "op": negated[op]}, cid)
        path = rule["field"]
        rule_value = rule.get("value")
        value = self.raw_value(path, cid)
        if value is MISSING:
            return False
        if op == "is_set":
            return True
        if op == "contains":
            return rule_value.lower() in value.lower()
        if path.startswith("attr."):
            operands = rule_value if isinstance(rule_value, list) else [rule_value]
            if all(_is_number(v) for v in operands):
                value = _parse_decimal(value)
                if value is None:
                    return False
                rule_value = (
                    [_as_decimal(v) for v in rule_value]
                    if isinstance(rule_value, list)
                    else _as_decimal(rule_value)
                )
        if op == "eq":
            return value == rule_value
        if op == "in":
            return value in rule_value
        if op == "gt":
            return value > rule_value
        if op == "gte":
            return value >= rule_value
        if op == "lt":
            return value < rule_value
        if op == "lte":
            return value <= rule_value
        if op == "between":
            return rule_value[0] <= value <= rule_value[1]
        raise ValueError(op)

    # -- events and rx
    @staticmethod
    def compare(amount: int, cmp: dict) -> bool:
        v = cmp["value"]
        return {
            "eq": amount == v,
            "ne": amount != v,
            "gt": amount > v,
            "gte": amount >= v,
            "lt": amount < v,
            "lte": amount <= v,
        }[cmp["op"]]

    def event(self, rule: dict, cid: int) -> bool:
        start = None
        if "within_days" in rule:
            start = self.as_of - dt.timedelta(seconds=86400 * rule["within_days"])
        count = 0
        for row in self.world.interactions:
            if row["customer_id"] != cid or row["occurred_at"] > self.as_of:
                continue
            if start is not None and row["occurred_at"] <= start:
                continue
            if all(row[k] == v for k, v in rule["event"].items()):
                count += 1
        return self.compare(count, rule.get("count", {"op": "gte", "value": 1}))

    def rx(self, rule: dict, cid: int) -> bool:
        last = self.as_of.year * 12 + self.as_of.month - 1
        first = last - rule["months"] + 1 if "months" in rule else None
        product = rule["rx"].get("product")
        total = 0
        for row in self.world.rx:
            index = row["month"].year * 12 + row["month"].month - 1
            if row["customer_id"] != cid or index > last:
                continue
            if first is not None and index < first:
                continue
            if product is not None and row["product"] != product:
                continue
            total += row[rule["metric"]]
        return self.compare(total, rule["sum"])


def evaluate(rule: dict, world: World, as_of: dt.datetime) -> set[int]:
    """The ids of the customers matching ``rule`` at ``as_of``."""
    return Evaluator(world, as_of).members(rule)
