"""seed_demo's service: load a synthetic brand into an empty database, step by step.

A step is a function ``step(ctx: SeedContext) -> None`` that writes one kind
of data and adds its row counts to ``ctx.counts``. ``seed_demo`` runs
``DEFAULT_STEPS`` in order inside one transaction (a failure leaves the
database as it was), then appends one audit event with the plan and counts.
Further steps (content assets, demo segments) can be appended to the tuple
or passed as ``steps=``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Territory
from audit.services import record_event
from core.errors import Conflict
from customers.models import (
    Account,
    Customer,
    CustomerAttribute,
    Interaction,
    InteractionRecency,
    RxFact,
    RxYear,
)

from .context import SeedContext
from .generate import (
    AccountIndex,
    DemoPlan,
    generate_accounts,
    generate_attributes,
    generate_customers,
    generate_interactions,
    generate_rx,
    territories_frame,
)
from .governed import seed_content_assets, seed_mappings, seed_segments
from .history import history_step
from .networks import seed_coverage, seed_referrals
from .users import demo_signatures_remembered, ensure_demo_users
from .writer import TableWriter

SeedStep = Callable[[SeedContext], None]


def seed_territories(ctx: SeedContext) -> None:
    """The demo's sales territories (existing codes are kept as they are)."""
    frame = territories_frame()
    existing = set(Territory.objects.values_list("code", flat=True))
    new = [
        Territory(code=code, name=name)
        for code, name in frame.itertuples(index=False)
        if code not in existing
    ]
    Territory.objects.bulk_create(new)
    ctx.add("territories", len(new))
    ctx.report(f"territories: {len(new)} created, {len(frame) - len(new)} already there")


def seed_accounts(ctx: SeedContext) -> None:
    """Health systems with their hospitals and clinics, practices, pharmacies, payers, GPOs."""
    frame = generate_accounts(ctx.plan)
    ctx.add("accounts", ctx.writer.write(Account, frame))
    ctx.accounts = AccountIndex.from_frame(frame)
    ctx.report(f"accounts: {len(frame):,}")


def seed_customers(ctx: SeedContext) -> None:
    """Customers with attributes, interactions and rx facts, one chunk at a time."""
    plan, writer = ctx.plan, ctx.writer
    if ctx.accounts is None:
        raise RuntimeError("seed_accounts must run before seed_customers")
    first_id = (Customer.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    tables = (Customer, CustomerAttribute, Interaction, RxFact)
    with writer.indexes_deferred(*tables):
        for index, start, stop in plan.chunks():
            chunk = generate_customers(plan, ctx.accounts, index, start, stop, first_id)
            ctx.add("customers", writer.write(Customer, chunk.frame))
            attributes = generate_attributes(plan, chunk, index)
            ctx.add("customer attributes", writer.write(CustomerAttribute, attributes))
            interactions = generate_interactions(plan, chunk, index)
            ctx.add("interactions", writer.write(Interaction, interactions))
            ctx.add("rx facts", writer.write(RxFact, generate_rx(plan, chunk, index)))
            ctx.report(
                f"customers {stop:,}/{plan.customers:,}; interactions "
                f"{ctx.counts.get('interactions', 0):,}; rx facts "
                f"{ctx.counts.get('rx facts', 0):,} ({ctx.elapsed:.0f}s)"
            )
        if writer.postgres:
            ctx.report(f"rebuilding indexes and constraints ({ctx.elapsed:.0f}s)")
    writer.reset_sequences(Customer)
    # RxYear and InteractionRecency were written by the triggers on the rx facts
    # and the interactions (not loaded with their indexes deferred: the
    # triggers' upserts need their unique constraints).
    writer.analyze(
        Account,
        Customer,
        CustomerAttribute,
        Interaction,
        InteractionRecency,
        RxFact,
        RxYear,
    )


def seed_users(ctx: SeedContext) -> None:
    """The demo users of every role (documented demo-only passwords)."""
    users = ensure_demo_users()
    ctx.add("demo users", len(users))
    ctx.report(f"demo users: {', '.join(u.username for u in users)}")


# Assets, segments and mappings go through the governed services (audit, e-signatures).
DEFAULT_STEPS: tuple[SeedStep, ...] = (
    seed_territories,
    seed_accounts,
    seed_customers,
    seed_users,
    seed_coverage,
    seed_referrals,
    seed_content_assets,
    seed_segments,
    seed_mappings,
)


def database_has_data() -> bool:
    """True when customers or accounts exist already (seed_demo only fills an empty database)."""
    return Customer.objects.exists() or Account.objects.exists()


def seed_demo(
    *,
    customers: int,
    seed: int,
    anchor: date | None = None,
    report: Callable[[str], None] = lambda line: None,
    steps: Sequence[SeedStep] = DEFAULT_STEPS,
    history_days: int = 0,
) -> dict[str, int]:
    """Seed the demo data set into an empty database and return the row counts.

    The same ``customers``, ``seed`` and ``anchor`` always give the same data;
    ``anchor`` (default: today, UTC) is the day before which the two years of
    interactions end and whose month follows the twelve months of rx facts.
    Refuses (Conflict) when customers or accounts exist already. ``history_days``
    replays that many days of daily recomputes of the active segments at the end
    (``demo.history``), so charts have a shape.
    """
    if history_days:
        steps = (*steps, history_step(history_days))
    plan = DemoPlan(customers=customers, seed=seed, anchor=anchor or timezone.now().date())
    with transaction.atomic():
        if database_has_data():
            raise Conflict(
                "the database already holds customers or accounts; seed_demo only seeds an "
                "empty database",
                path="",
            )
        ctx = SeedContext(
            plan=plan, writer=TableWriter(connection=connection, now=timezone.now()), report=report
        )
        report(
            f"seeding {plan.customers:,} customers with seed {plan.seed}, anchor {plan.anchor} "
            f"on {connection.vendor}"
        )
        with demo_signatures_remembered():
            for step in steps:
                step(ctx)
        record_event(
            actor=None,
            action="demo.seeded",
            object_type="dataset",
            object_id="demo",
            after={
                "seed": plan.seed,
                "customers": plan.customers,
                "anchor": plan.anchor.isoformat(),
                "counts": ctx.counts,
            },
        )
    return ctx.counts
