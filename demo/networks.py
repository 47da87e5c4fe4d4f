"""seed_demo's payer coverage and referral network (docs/rules.md, "Account segments"
and "Influence fields").

- Coverage: every payer gets a row per own product a year before the anchor
  and, for about half of them, a newer row from three months before it (a
  status change), so coverage conditions read history.
- Referrals: one network ending on the last day of the month before the
  anchor. Each customer refers to one to three peers of its specialty, mostly
  to a few hubs per specialty (about 1%), so the hubs lead influence in their
  specialty. Written and scored by the ``referrals`` import's own writer.

Set-based: numpy draws, one bulk insert per table.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from customers.importing.referrals import write_period
from customers.models import Account, Coverage, Customer, ReferralNetwork
from customers.vocabularies import FormularyStatus

from .catalog import OWN_PRODUCTS
from .context import SeedContext
from .generate.plan import _rng

_COVERAGE_STREAM = 91
_REFERRAL_STREAM = 92
_STATUS_P = (0.2, 0.35, 0.25, 0.12, 0.08)


def seed_coverage(ctx: SeedContext) -> None:
    rng = _rng(ctx.plan.seed, _COVERAGE_STREAM)
    anchor = ctx.plan.anchor
    payers = list(Account.objects.filter(account_type="payer").values_list("pk", flat=True))
    statuses = np.array(FormularyStatus.values, dtype=object)
    rows = []
    for product in OWN_PRODUCTS:
        first = statuses[rng.choice(len(statuses), size=len(payers), p=_STATUS_P)]
        later = statuses[rng.choice(len(statuses), size=len(payers), p=_STATUS_P)]
        lives = rng.lognormal(np.log(250_000), 1.0, size=len(payers)).round().astype(int)
        changed = rng.random(len(payers)) < 0.5
        for i, payer in enumerate(payers):
            rows.append(
                Coverage(
                    account_id=payer,
                    product=product,
                    status=first[i],
                    lives=int(lives[i]),
                    effective_from=anchor - timedelta(days=365),
                )
            )
            if changed[i]:
                rows.append(
                    Coverage(
                        account_id=payer,
                        product=product,
                        status=later[i],
                        lives=int(lives[i] * 1.1),
                        effective_from=anchor - timedelta(days=90),
                    )
                )
    Coverage.objects.bulk_create(rows, batch_size=5000)
    ctx.add("coverage rows", len(rows))
    ctx.report(f"coverage: {len(rows):,} rows for {len(payers):,} payers")


def referral_period_end(anchor: date) -> date:
    return anchor.replace(day=1) - timedelta(days=1)


def seed_referrals(ctx: SeedContext) -> None:
    rng = _rng(ctx.plan.seed, _REFERRAL_STREAM)
    rows = list(Customer.objects.order_by("npi").values_list("npi", "specialty"))
    npis = np.array([npi for npi, _ in rows], dtype=object)
    specialties = np.array([specialty for _, specialty in rows], dtype=object)
    pairs: dict[tuple[str, str], tuple[int, int, int]] = {}
    for specialty in np.unique(specialties):
        group = np.flatnonzero(specialties == specialty)
        if len(group) < 3:
            continue
        hubs = rng.choice(group, size=max(1, len(group) // 100), replace=False)
        for i in group:
            for _ in range(int(rng.integers(1, 4))):
                j = int(rng.choice(hubs)) if rng.random() < 0.6 else int(rng.choice(group))
                if j == i:
                    continue
                bene = int(rng.integers(11, 60))
                pairs[(npis[i], npis[j])] = (bene + int(rng.integers(0, 40)), bene, 0)
    period_end = referral_period_end(ctx.plan.anchor)
    # As an import does: the period's network is replaced.
    ReferralNetwork.objects.filter(period_end=period_end).delete()
    scored = write_period(period_end, pairs, ctx.writer.now)
    ctx.add("referral pairs", len(pairs))
    ctx.report(f"referrals: {len(pairs):,} pairs, {len(scored):,} customers scored")
