"""Monte-Carlo interventional means where no exact form exists (paired units across the grid)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..env import CausalEnv

MC_UNITS = 200_000


def estimate_effect(env: CausalEnv, variable: str, grid: Sequence[float], n: int = MC_UNITS
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(E[Y | do(variable = a)] estimates, standard errors) over the training mixture."""
    from .suite import _mixture_units, _sample_units

    units = _mixture_units(env, n, 0, "effect-mc")
    means, ses = [], []
    for a in grid:
        y = _sample_units(units, {variable: a})[env.target]
        means.append(y.mean())
        ses.append(y.std() / np.sqrt(len(y)))
    return np.array(means), np.array(ses)
