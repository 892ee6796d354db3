"""Linear-Gaussian SCMs in one pass: X = (c + E diag(sd)) (I - W)^-1, one triangular matrix product.

`SCM.sample` evaluates a linear mechanism one edge at a time (two numpy passes per edge), and its
bytes are pinned (every existing dataset must keep them). For a linear-Gaussian SCM the same units
(each variable's noise from its own stream, exactly as `sample` draws it) can be pushed through the
whole linear system at once: the law and the noise are identical, the float rounding is that of a
BLAS triangular product (agreeing with `sample` to ~1e-12 relative), and the cost per row is
~p^2/2 multiply-adds at BLAS speed instead of two memory passes per edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import SCMError
from .mechanisms import NORMAL, NoiseSource


@dataclass(frozen=True)
class LinearSystem:
    """Topological order, sd of each variable's noise, and (diag(sd) M, c M) with M = (I - W)^-1."""

    order: tuple[str, ...]
    sd: np.ndarray
    SM: np.ndarray
    cM: np.ndarray


def compile_linear(order: tuple[str, ...], forms: dict[str, Any]) -> LinearSystem:
    """The system of an SCM whose every mechanism has a `linear_form()` (intercept, weights, sd)."""
    missing = [v for v in order if forms[v] is None]
    if missing:
        raise SCMError(f"sample_linear needs a linear-Gaussian SCM; {missing[0]!r} is not linear-Gaussian")
    pos = {v: j for j, v in enumerate(order)}
    p = len(order)
    c, sd, W = np.zeros(p), np.zeros(p), np.zeros((p, p))
    for j, v in enumerate(order):
        intercept, weights, std = forms[v]
        c[j], sd[j] = intercept, std
        for parent, w in weights.items():
            W[pos[parent], j] += w
    M = np.linalg.solve(np.eye(p) - W, np.eye(p))  # upper triangular: parents come first
    M = np.triu(M)
    return LinearSystem(order, sd, np.asfortranarray(sd[:, None] * M), c @ M)


def sample_linear(system: LinearSystem, n: int, noise: Callable[[str], NoiseSource]) -> np.ndarray:
    """An (n, p) Fortran-ordered matrix: each variable's standard-normal noise from `noise(name)`,
    pushed through the system by one in-place triangular product (BLAS dtrmm)."""
    from scipy.linalg.blas import dtrmm  # lazy: scipy loads only when this path is used

    E = np.empty((n, len(system.order)), order="F")
    for j, v in enumerate(system.order):
        if system.sd[j] != 0:
            noise(v).fill(E[:, j], NORMAL)
        else:
            E[:, j] = 0.0
    X = dtrmm(1.0, system.SM, E, side=1, lower=0, overwrite_b=1)
    X += system.cM
    return X
