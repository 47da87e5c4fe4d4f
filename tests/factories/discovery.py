"""Small generated populations for discovery tests: readable fields, a few engagement and rx facts.

``make_population(n, seed)`` writes ``n`` customers with a specialty, decile,
state and account type drawn at random, rep visits and webinar attendances
over the last year and monthly TRX for one product, all relative to ``AS_OF``.
Everything is written with ``bulk_create``: the tests stay fast.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection

from customers.models import Account, Customer, Interaction, RxFact

from .customers import valid_npi

AS_OF = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
SPECIALTIES = ("cardiology", "endocrinology", "oncology", "neurology", "family_medicine")
STATES = ("CA", "NY", "TX", "FL")
ACCOUNT_TYPES = ("hospital", "clinic", "academic_center")


def make_population(n: int = 600, *, seed: int = 7, start: int = 500_000) -> list[Customer]:
    rng = random.Random(seed)
    accounts = [
        Account(account_id=f"DA{seed}{i:03d}", name=f"Site {i}", account_type=t)
        for i, t in enumerate(ACCOUNT_TYPES * 3)
    ]
    Account.objects.bulk_create(accounts)
    customers = [
        Customer(
            npi=valid_npi(start + i),
            first_name="Pat",
            last_name=f"Doe{i}",
            specialty=rng.choice(SPECIALTIES),
            decile=rng.randint(1, 10),
            state=rng.choice(STATES),
            account=rng.choice(accounts),
        )
        for i in range(n)
    ]
    Customer.objects.bulk_create(customers)
    customers = list(Customer.objects.filter(npi__in=[c.npi for c in customers]).order_by("pk"))
    interactions, facts = [], []
    for c in customers:
        for j in range(rng.choice((0, 0, 1, 2, 3, 5))):
            interactions.append(
                Interaction(
                    customer=c,
                    occurred_at=AS_OF - dt.timedelta(days=rng.randint(0, 200), minutes=j + 1),
                    channel="rep_visit",
                    kind="visited",
                )
            )
        if rng.random() < 0.3:
            interactions.append(
                Interaction(
                    customer=c,
                    occurred_at=AS_OF - dt.timedelta(days=rng.randint(0, 80), hours=2),
                    channel="webinar",
                    kind="attended",
                )
            )
        for m in range(rng.choice((0, 3, 6))):
            month = dt.date(2026, 6 - m, 1)
            facts.append(
                RxFact(
                    customer=c,
                    month=month,
                    product="CARDIOZEN",
                    nrx=rng.randint(0, 3),
                    trx=rng.randint(0, 9),
                    new_patient_starts=0,
                )
            )
    Interaction.objects.bulk_create(interactions)
    RxFact.objects.bulk_create(facts)
    _analyze()
    return customers


def _analyze() -> None:
    """Give PostgreSQL's planner statistics of the rows just written.

    Tests write inside a transaction autovacuum never sees; without statistics
    the planner misjudges the rule's subqueries and one count takes many seconds.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(m._meta.db_table)
        for m in (Account, Customer, Interaction, RxFact)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
