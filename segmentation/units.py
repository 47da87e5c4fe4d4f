"""The units a segment's members can be (docs/rules.md, "Account segments").

One description per unit, so the membership engine, members, history and
exports serve both through one code path: which model the members are, which
spell table holds their stays and under which column, and the external id
shown for them (``npi`` for a customer, ``account_id`` for an account).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from customers.models import Account, Customer

from .models import AccountMembershipSpell, MembershipSpell, SegmentVersion, Unit


@dataclass(frozen=True)
class UnitSpec:
    name: str
    model: type[models.Model]
    spell: type[models.Model]
    column: str  # the spell column naming the member
    key: str  # the member's external id, as exports name it

    def open_spells(self, version_id: int) -> models.QuerySet:
        """The current members' spells of a version."""
        return self.spell.objects.filter(version_id=version_id, exited_as_of__isnull=True)

    @property
    def table(self) -> str:
        return self.spell._meta.db_table


CUSTOMER = UnitSpec(Unit.CUSTOMER, Customer, MembershipSpell, "customer_id", "npi")
ACCOUNT = UnitSpec(Unit.ACCOUNT, Account, AccountMembershipSpell, "account_id", "account_id")


def unit_of(version: SegmentVersion) -> UnitSpec:
    """The unit of a version's segment."""
    return ACCOUNT if version.segment.unit == Unit.ACCOUNT else CUSTOMER
