"""States, ZIP codes, cities and territories the accounts and customers are placed in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import catalog


@dataclass(frozen=True)
class _Places:
    codes: np.ndarray
    p: np.ndarray
    zip_lo: np.ndarray
    zip_hi: np.ndarray
    cities: tuple[tuple[str, ...], ...]
    territories: tuple[tuple[str, ...], ...]

    def pick_states(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.codes), size=n, p=self.p)

    def zips(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        zip3 = rng.integers(self.zip_lo[states], self.zip_hi[states] + 1)
        return zip3 * 100 + rng.integers(0, 100, size=len(states))

    def territory_codes(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        """One territory per state index; a split state picks one of its territories."""
        pick = rng.random(len(states))
        out = np.empty(len(states), dtype=object)
        for s in np.unique(states):
            options = self.territories[s]
            mask = states == s
            out[mask] = np.array(options, dtype=object)[
                np.minimum((pick[mask] * len(options)).astype(int), len(options) - 1)
            ]
        return out


def _places() -> _Places:
    by_state: dict[str, list[str]] = {}
    for code, _name, states in catalog.TERRITORIES:
        for state in states:
            by_state.setdefault(state, []).append(code)
    population = np.array([s[2] for s in catalog.STATES])
    return _Places(
        codes=np.array([s[0] for s in catalog.STATES], dtype=object),
        p=population / population.sum(),
        zip_lo=np.array([s[3] for s in catalog.STATES]),
        zip_hi=np.array([s[4] for s in catalog.STATES]),
        cities=tuple(s[5] for s in catalog.STATES),
        territories=tuple(tuple(by_state[s[0]]) for s in catalog.STATES),
    )


PLACES = _places()


def territories_frame() -> pd.DataFrame:
    """Every demo territory: ``code``, ``name``."""
    return pd.DataFrame(
        {"code": [t[0] for t in catalog.TERRITORIES], "name": [t[1] for t in catalog.TERRITORIES]}
    )


def _zip_strings(zips: np.ndarray) -> np.ndarray:
    return np.char.zfill(zips.astype(str), 5).astype(object)
