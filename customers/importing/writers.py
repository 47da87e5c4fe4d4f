"""Set-based upserts of staged rows, one skeleton for every kind (docs/imports.md).

``Writer.write`` is the skeleton; each kind fills in its hooks:

1. stage: index the staged natural key, give the planner row counts;
2. validate: checks over the whole file (references to existing rows,
   duplicate natural keys, account cycles), raised together;
3. resolve: a table ``RES`` joining each staged row to its target record
   (``target_id`` is NULL for a new record) and flagging the rows that differ;
4. count: created are the rows without a target, updated the changed ones;
5. upsert: ``UPDATE ... FROM`` the changed rows, ``INSERT ... SELECT`` the new
   ones, so only what differs is written and re-importing a file is a no-op;
6. collect the ids of the customers whose data changed (they get recomputed).

Table and column names come from the models' ``_meta``; staged columns are
named after the file's columns (``kinds``). Timestamps follow the ORM:
``auto_now`` columns are set on insert and update, ``auto_now_add`` on insert.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from django.db import models

from customers import summaries
from customers.models import Account, Customer, CustomerAttribute, Interaction, RxFact

from .kinds import ACCOUNTS, CUSTOMERS, INTERACTIONS, RX
from .run import Run, Table
from .staging import ATTR, CHANGED, RAW, RES


class Written(NamedTuple):
    created: int
    updated: int
    customer_ids: list[int]


class Writer:
    """The skeleton of ``write``; subclasses name their model and fill in the hooks."""

    model: ClassVar[type[models.Model]]
    index: ClassVar[list[str]] = []  # staged columns indexed before the checks
    insert_order: ClassVar[str] = ""  # ORDER BY of the INSERT (RES columns)

    def __init__(self, run: Run) -> None:
        self.run = run
        self.t = Table(self.model)

    def write(self) -> Written:
        run = self.run
        if self.index:
            run.index(RAW, self.index)
        run.analyze(RAW)
        self.validate()
        run.errors.raise_if_any()
        run.cursor.execute(f"CREATE TEMPORARY TABLE {RES} AS {self.resolve()}")
        run.analyze(RES)
        self.flag_changes()
        created = run.count("target_id IS NULL")
        updated = self.count_updated()
        run.create_territories()
        if updated:
            self.update()
        if created:
            self.insert()
        self.write_related()
        return Written(created, updated, run.ids(self.changed_customers()))

    # -- hooks -------------------------------------------------------------
    def validate(self) -> None:
        """Add the errors found by checks over the whole staged file."""

    def resolve(self) -> str:
        """SELECT of staged rows with ``target_id`` (NULL when new) and ``changed``."""
        raise NotImplementedError

    def flag_changes(self) -> None:
        """Extra work after ``RES`` exists, before counting."""

    def count_updated(self) -> int:
        return self.run.count("changed")

    def changed_rows(self) -> str:
        """Condition on ``RES`` selecting the rows the UPDATE writes."""
        return f"{RES}.changed"

    def columns(self) -> list[tuple[str, str]]:
        """(target column, RES column) pairs an INSERT writes."""
        raise NotImplementedError

    def assignments(self) -> list[tuple[str, str]]:
        """(target column, RES column) pairs an UPDATE writes."""
        raise NotImplementedError

    def write_related(self) -> None:
        """Writes to other tables, after the record upsert."""

    def changed_customers(self) -> str:
        """SELECT of the ids of customers whose data changed."""
        raise NotImplementedError

    # -- shared steps ------------------------------------------------------
    def update(self) -> None:
        t, now = self.t, self.run.now
        stamps = t.stamps(insert=False)
        sets = [f"{dst} = {RES}.{src}" for dst, src in self.assignments()]
        sets += [f"{column} = %s" for column in stamps]
        self.run.cursor.execute(
            f"UPDATE {t} SET {', '.join(sets)} FROM {RES} "
            f"WHERE {t}.{t.pk} = {RES}.target_id AND {self.changed_rows()}",
            [now] * len(stamps) or None,
        )

    def insert(self) -> None:
        t, now = self.t, self.run.now
        stamps = t.stamps(insert=True)
        pairs = self.columns()
        dst = ", ".join([d for d, _ in pairs] + stamps)
        src = ", ".join([s for _, s in pairs] + ["%s"] * len(stamps))
        order = f" ORDER BY {self.insert_order}" if self.insert_order else ""
        self.run.cursor.execute(
            f"INSERT INTO {t} ({dst}) SELECT {src} FROM {RES} WHERE target_id IS NULL{order}",
            [now] * len(stamps) or None,
        )


class _Records(Writer):
    """Accounts and customers: each file column replaces one column of the record.

    The file column ``c`` writes the model column ``c.target``; the natural
    key is the kind's one key column, the target's id its primary key.
    """

    alias: ClassVar[str]  # of the target table in SQL

    def pairs(self, *, present_only: bool) -> list[tuple[str, str]]:
        run, key = self.run, self.run.kind.key[0]
        return [
            (self.t.col(c.target), run.q(c.name))
            for c in run.kind.columns
            if not present_only or (c.name != key and run.present(c.name))
        ]

    def columns(self) -> list[tuple[str, str]]:
        return self.pairs(present_only=False)

    def assignments(self) -> list[tuple[str, str]]:
        return self.pairs(present_only=True)

    def resolve(self) -> str:
        run, t, x, key = self.run, self.t, self.alias, self.run.kind.key[0]
        changed = run.changed_expr([(f"{x}.{dst}", f"r.{src}") for dst, src in self.assignments()])
        return (
            f"SELECT r.*, {x}.{t.pk} AS target_id, ({x}.{t.pk} IS NOT NULL AND {changed}) "
            f"AS changed FROM {RAW} r LEFT JOIN {t} {x} ON {x}.{t.col(key)} = r.{run.q(key)}"
        )


class AccountWriter(_Records):
    model = Account
    alias = "a"
    index = ["account_id"]

    def validate(self) -> None:
        run, t = self.run, self.t
        pk, parent = t.col("account_id"), t.col("parent")
        if run.present("parent_account_id"):
            run.missing_reference(
                "parent_account_id",
                f"SELECT r.row_no, r.parent_account_id FROM {RAW} r "
                "WHERE r.parent_account_id IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {t} a WHERE a.{pk} = r.parent_account_id) "
                f"AND NOT EXISTS (SELECT 1 FROM {RAW} p WHERE p.account_id = r.parent_account_id)",
                lambda v: f"no account '{v}' in the database or in this file",
            )
        run.duplicates("account_id", ["account_id"])
        if run.present("parent_account_id") and not run.errors.items:
            # Walk up from every account of the file through the hierarchy as it
            # will be after the import (file rows replace their database rows).
            run.missing_reference(
                "parent_account_id",
                "WITH RECURSIVE edges(child, parent) AS ("
                f" SELECT account_id, parent_account_id FROM {RAW}"
                " WHERE parent_account_id IS NOT NULL"
                f" UNION ALL SELECT a.{pk}, a.{parent} FROM {t} a"
                f" WHERE a.{parent} IS NOT NULL AND NOT EXISTS"
                f" (SELECT 1 FROM {RAW} r WHERE r.account_id = a.{pk})),"
                " walk(start, cur) AS ("
                f" SELECT child, parent FROM edges WHERE child IN (SELECT account_id FROM {RAW})"
                " UNION SELECT w.start, e.parent FROM walk w JOIN edges e ON e.child = w.cur"
                " WHERE w.cur <> w.start) "
                f"SELECT r.row_no, r.parent_account_id FROM {RAW} r WHERE EXISTS"
                " (SELECT 1 FROM walk w WHERE w.start = r.account_id AND w.cur = r.account_id)",
                lambda v: "makes the account hierarchy a cycle",
            )

    def changed_customers(self) -> str:
        # Account fields feed rules through ``account.`` paths: the affiliated
        # customers of a changed account need recomputing. New accounts have none.
        c = Table(Customer)
        return (
            f"SELECT c.{c.pk} FROM {c} c WHERE c.{c.col('account')} IN "
            f"(SELECT account_id FROM {RES} WHERE changed)"
        )


class CustomerWriter(_Records):
    """Customers, and their ``attr.`` cells (staged in ``ATTR``) as attributes."""

    model = Customer
    alias = "c"
    index = ["npi"]
    insert_order = "npi"

    def validate(self) -> None:
        run, a = self.run, Table(Account)
        if run.present("account_id"):
            run.missing_reference(
                "account_id",
                f"SELECT r.row_no, r.account_id FROM {RAW} r WHERE r.account_id IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM {a} a WHERE a.{a.pk} = r.account_id)",
                lambda v: f"no account '{v}'",
            )
        run.duplicates("npi", ["npi"])

    def _attributes(self) -> tuple[Table, str, str, str]:
        """The attribute table, its customer and key columns, and the staged ``key``."""
        ca = Table(CustomerAttribute)
        return ca, ca.col("customer"), ca.col("key"), self.run.q("key")

    def _attribute_pairs(self) -> str:
        """FROM clause pairing each staged attribute cell with its (existing) customer."""
        return f"FROM {ATTR} x JOIN {self.t} c ON c.{self.t.col('npi')} = x.npi"

    def flag_changes(self) -> None:
        """``CHANGED``: existing customers whose columns or attributes change."""
        run, t = self.run, self.t
        attr_changes = ""
        if run.layout.attributes:
            run.index(ATTR, ["npi", "key"])
            run.analyze(ATTR)
            ca, customer, key, xkey = self._attributes()
            value = ca.col("value")
            attr_changes = (
                f" UNION SELECT c.{t.pk} {self._attribute_pairs()}"
                f" LEFT JOIN {ca} ca ON ca.{customer} = c.{t.pk} AND ca.{key} = x.{xkey}"
                f" WHERE (x.value = '' AND ca.{ca.pk} IS NOT NULL)"
                f" OR (x.value <> '' AND (ca.{ca.pk} IS NULL OR ca.{value} <> x.value))"
            )
        run.cursor.execute(
            f"CREATE TEMPORARY TABLE {CHANGED} AS SELECT target_id AS customer_id FROM {RES} "
            f"WHERE changed{attr_changes}"
        )

    def count_updated(self) -> int:
        return int(self.run.scalar(f"SELECT COUNT(*) FROM {CHANGED}") or 0)

    def changed_rows(self) -> str:
        return f"{RES}.target_id IN (SELECT customer_id FROM {CHANGED})"

    def write_related(self) -> None:
        """Blank ``attr.`` cells delete the attribute; others update or create it."""
        if not self.run.layout.attributes:
            return
        cursor, pk, pairs = self.run.cursor, self.t.pk, self._attribute_pairs()
        ca, customer, key, xkey = self._attributes()
        value, number = ca.col("value"), ca.col("number")
        cursor.execute(
            f"DELETE FROM {ca} WHERE {ca.pk} IN (SELECT ca.{ca.pk} {pairs} JOIN {ca} ca "
            f"ON ca.{customer} = c.{pk} AND ca.{key} = x.{xkey} WHERE x.value = '')"
        )
        cursor.execute(
            f"UPDATE {ca} SET {value} = v.value, {number} = v.number "
            f"FROM (SELECT c.{pk} AS cid, x.{xkey} AS k, x.value, x.number {pairs} "
            f"WHERE x.value <> '') v WHERE {ca}.{customer} = v.cid "
            f"AND {ca}.{key} = v.k AND {ca}.{value} <> v.value"
        )
        cursor.execute(
            f"INSERT INTO {ca} ({customer}, {key}, {value}, {number}) "
            f"SELECT c.{pk}, x.{xkey}, x.value, x.number {pairs} WHERE x.value <> '' "
            f"AND NOT EXISTS (SELECT 1 FROM {ca} ca "
            f"WHERE ca.{customer} = c.{pk} AND ca.{key} = x.{xkey})"
        )

    def changed_customers(self) -> str:
        t = self.t
        return (
            f"SELECT customer_id FROM {CHANGED} UNION SELECT c.{t.pk} FROM {t} c "
            f"JOIN {RES} r ON c.{t.col('npi')} = r.npi WHERE r.target_id IS NULL"
        )


class _Facts(Writer):
    """Interactions and rx facts: rows about a customer, named in the file by NPI.

    ``fields`` are the staged columns copied to the model's column of the same
    name; ``customer_id`` (the customer found by NPI) comes first.
    """

    fields: ClassVar[list[str]]

    def validate(self) -> None:
        c = Table(Customer)
        self.run.missing_reference(
            "npi",
            f"SELECT r.row_no, r.npi FROM {RAW} r WHERE NOT EXISTS "
            f"(SELECT 1 FROM {c} c WHERE c.{c.col('npi')} = r.npi)",
            lambda v: f"no customer with NPI {v}",
        )

    def columns(self) -> list[tuple[str, str]]:
        return [(self.t.col(n), self.run.q(n)) for n in ["customer_id", *self.fields]]

    def customer_join(self) -> str:
        c = Table(Customer)
        return f"JOIN {c} c ON c.{c.col('npi')} = r.npi"

    def insert(self) -> None:
        """On PostgreSQL: the facts' customers locked, the new rows inserted with the
        insert trigger stepping aside, and their summaries written from ``RES`` by the
        trigger's own statement (customers/summaries.py)."""
        if not self.run.sql.pg:
            super().insert()
            return
        self.lock_customers()
        with summaries.written_by_import(self.run.cursor):
            super().insert()
        self.add_summaries(self.run.cursor, f"(SELECT * FROM {RES} WHERE target_id IS NULL) s")

    def update(self) -> None:
        if self.run.sql.pg:
            self.lock_customers()
        super().update()

    def lock_customers(self) -> None:
        """The facts carry no database foreign key (customers migration 0013): lock the
        customers they name against deletion until the commit (one statement), and
        report the rows of any customer deleted since the references were checked."""
        if getattr(self, "_locked", False):
            return
        self._locked = True
        c = Table(Customer)
        named = f"SELECT customer_id FROM {RES} WHERE target_id IS NULL OR changed"
        locked = self.run.scalar(
            f"SELECT (SELECT count(*) FROM (SELECT 1 FROM {c} c WHERE c.{c.pk} IN ({named}) "
            f"FOR KEY SHARE OF c) l) = (SELECT count(DISTINCT customer_id) FROM ({named}) n)"
        )
        if not locked:
            self.validate()
            self.run.errors.raise_if_any()

    def add_summaries(self, cursor, source: str) -> None:
        """Write the summaries of the new rows of ``source``."""
        raise NotImplementedError


class InteractionWriter(_Facts):
    """Interactions, inserted in time order.

    Three of the table's indexes lead with the time or with a channel or topic
    and then the time; in time order each new row goes next to the previous
    one there, where customer order scattered those rows over every page of
    them. A million interactions over 400 days: the insert 22.5 s in customer
    order, 15.7-16.9 s in time order; a day's 200,000 into a million alike
    (bench/README.md, "First runs without a ruled-out exit; imports in time order").
    A customer's rows lie apart in the table either way once feeds come daily:
    each day's file adds a few of them.
    """

    model = Interaction
    insert_order = "occurred_at, customer_id"
    values = ["occurred_at", "channel", "kind", "topic", "asset"]
    fields = [*values, "external_id"]

    def validate(self) -> None:
        super().validate()
        run = self.run
        if run.present("external_id"):
            run.duplicates("external_id", ["external_id"], "external_id IS NOT NULL")
        run.duplicates("npi", ["npi", *self.values], "external_id IS NULL")

    def assignments(self) -> list[tuple[str, str]]:
        present = [v for v in self.values if self.run.present(v)]
        return [(self.t.col(name), self.run.q(name)) for name in ["customer_id", *present]]

    def resolve(self) -> str:
        run, t, q = self.run, self.t, self.run.q
        col, pk, customer = t.col, t.pk, t.col("customer")
        c_pk = Table(Customer).pk
        changed = run.changed_expr(
            [(f"i.{customer}", f"c.{c_pk}")]
            + [(f"i.{col(v)}", f"r.{q(v)}") for v in self.values if run.present(v)]
        )
        select = (
            f"SELECT r.row_no, c.{c_pk} AS customer_id, r.occurred_at, r.channel, r.kind, "
            f"r.topic, r.asset, r.external_id, i.{pk} AS target_id, "
            f"i.{customer} AS old_customer_id, "
        )
        join = f"FROM {RAW} r {self.customer_join()} "
        same = " AND ".join(f"i.{col(v)} = r.{v}" for v in self.values)
        return (
            f"{select}(i.{pk} IS NOT NULL AND {changed}) AS changed {join}"
            f"LEFT JOIN {t} i ON i.{col('external_id')} = r.external_id "
            f"AND i.{col('external_id')} IS NOT NULL WHERE r.external_id IS NOT NULL "
            f"UNION ALL {select}(1=0) AS changed {join}"
            f"LEFT JOIN {t} i ON i.{col('external_id')} IS NULL "
            f"AND i.{customer} = c.{c_pk} AND {same} WHERE r.external_id IS NULL"
        )

    def add_summaries(self, cursor, source: str) -> None:
        summaries.add_interactions(cursor, source)

    def changed_customers(self) -> str:
        return (
            f"SELECT customer_id FROM {RES} WHERE target_id IS NULL OR changed "
            f"UNION SELECT old_customer_id FROM {RES} WHERE changed"
        )


class RxWriter(_Facts):
    model = RxFact
    insert_order = "customer_id, month, product"
    measures = ["nrx", "trx", "new_patient_starts"]
    fields = ["month", "product", *measures]

    def validate(self) -> None:
        super().validate()
        self.run.duplicates("npi", ["npi", "month", "product"])

    def assignments(self) -> list[tuple[str, str]]:
        return [(self.t.col(m), self.run.q(m)) for m in self.measures]

    def resolve(self) -> str:
        run, t, col, pk = self.run, self.t, self.t.col, self.t.pk
        c_pk = Table(Customer).pk
        changed = run.changed_expr([(f"x.{dst}", f"r.{src}") for dst, src in self.assignments()])
        return (
            f"SELECT r.row_no, c.{c_pk} AS customer_id, r.month, r.product, r.nrx, r.trx, "
            f"r.new_patient_starts, x.{pk} AS target_id, "
            f"(x.{pk} IS NOT NULL AND {changed}) AS changed FROM {RAW} r "
            f"{self.customer_join()} LEFT JOIN {t} x ON x.{col('customer')} = c.{c_pk} "
            f"AND x.{col('month')} = r.month AND x.{col('product')} = r.product"
        )

    def add_summaries(self, cursor, source: str) -> None:
        summaries.add_rx_facts(cursor, source)

    def changed_customers(self) -> str:
        return f"SELECT DISTINCT customer_id FROM {RES} WHERE target_id IS NULL OR changed"


WRITERS: dict[str, type[Writer]] = {
    ACCOUNTS.name: AccountWriter,
    CUSTOMERS.name: CustomerWriter,
    INTERACTIONS.name: InteractionWriter,
    RX.name: RxWriter,
}
