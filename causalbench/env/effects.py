"""Monte-Carlo interventional means where no exact form exists (paired units across the grid)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


MC_UNITS = 200_000


def estimate_effect(env: Any, variable: str, grid: Sequence[float], n: int = MC_UNITS
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(E[Y | do(variable = a)] estimates, standard errors) over the training mixture."""
    units = env.mixture(n, 0, "effect-mc", paired=True)
    means, ses = [], []
    for a in grid:
        y = units.sample({variable: a})[env.target]
        means.append(y.mean())
        ses.append(y.std() / np.sqrt(len(y)))
    return np.array(means), np.array(ses)
