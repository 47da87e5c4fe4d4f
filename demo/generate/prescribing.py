"""Rx facts: monthly NRx, TRx and new patient starts of prescribers per product."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import catalog
from .hcps import CustomerChunk
from .plan import _RX, SPECIALTIES, DemoPlan, _rng

PRODUCTS = np.array(catalog.PRODUCTS, dtype=object)
# Probability that a prescriber of a specialty writes each product at all.
_RX_AFFINITY_DEFAULT = (0.03, 0.03, 0.01, 0.05, 0.05)
_RX_AFFINITY = {
    #                    CARDIOZEN GLUCOVANT RENALIX VASTORIN METAFORA
    "cardiology": (0.75, 0.15, 0.15, 0.80, 0.20),
    "endocrinology": (0.20, 0.80, 0.15, 0.20, 0.85),
    "nephrology": (0.30, 0.20, 0.80, 0.30, 0.25),
    "internal_medicine": (0.35, 0.40, 0.12, 0.45, 0.50),
    "family_medicine": (0.25, 0.35, 0.05, 0.35, 0.45),
    "nurse_practitioner": (0.25, 0.30, 0.05, 0.30, 0.35),
}
_RX_BASE = np.array([6.0, 8.0, 4.0, 10.0, 12.0])  # monthly TRx of a typical writer
_RX_NEW_SHARE = np.array([0.40, 0.35, 0.35, 0.25, 0.25])  # NRx share of TRx


def generate_rx(plan: DemoPlan, chunk: CustomerChunk, index: int) -> pd.DataFrame:
    """Monthly rx facts of prescribers for the products they write, correlated with decile.

    A prescriber writes a product with a probability set by specialty and
    decile; volume grows with decile; CARDIOZEN (a launch brand) trends up over
    the year. Columns: customer_id, month, product, nrx, trx, new_patient_starts.
    """
    rng = _rng(plan.seed, _RX, index)
    n = len(chunk.ids)
    affinity = np.array([_RX_AFFINITY.get(s, _RX_AFFINITY_DEFAULT) for s in SPECIALTIES])[
        chunk.specialty
    ]
    decile = chunk.decile.astype(float)
    reach = np.where(decile > 0, np.minimum(1.0, 0.5 + 0.06 * decile), 0.6)
    writes = chunk.prescriber[:, None] & (
        rng.random((n, len(PRODUCTS))) < affinity * reach[:, None]
    )
    who, product = np.nonzero(writes)
    scale = np.where(decile[who] > 0, (decile[who] / 5) ** 1.3, 0.5)
    mu = _RX_BASE[product] * scale * rng.gamma(2.0, 0.5, len(who))
    months = len(plan.rx_months)
    trend = np.ones((len(PRODUCTS), months))
    trend[list(catalog.PRODUCTS).index("CARDIOZEN")] = np.linspace(0.6, 1.3, months)
    trx = rng.poisson(mu[:, None] * trend[product])
    nrx = rng.binomial(trx, _RX_NEW_SHARE[product][:, None])
    starts = rng.binomial(nrx, 0.5)
    month_text = [m.isoformat() for m in plan.rx_months]
    return pd.DataFrame(
        {
            "customer_id": np.repeat(chunk.ids[who], months),
            "month": pd.Categorical.from_codes(np.tile(np.arange(months), len(who)), month_text),
            "product": pd.Categorical.from_codes(np.repeat(product, months), PRODUCTS),
            "nrx": nrx.ravel(),
            "trx": trx.ravel(),
            "new_patient_starts": starts.ravel(),
        }
    )
