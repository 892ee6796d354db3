"""Interventions beyond hard `do(X = x)`: soft (change a mechanism's parameters) and per-sample (masked).

An intervention is a mapping variable -> value (hard), Mechanism (random or replaced),
`Soft(...)` or `PerSample(mask, replacement)`; `SCM.resolve` validates and composes them.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .mechanisms import Mechanism


class Soft:
    """A soft intervention: change some parameters of a variable's current mechanism.

    `{"T": Soft(mean=2.0)}` shifts a normal root; `{"X2": Soft(std=3.0)}` rescales noise.
    """

    def __init__(self, **changes: Any) -> None:
        self.changes = changes

    def __repr__(self) -> str:
        return "Soft(" + ", ".join(f"{k}={v!r}" for k, v in self.changes.items()) + ")"


class PerSample:
    """A per-sample intervention: where mask[i] is true, unit i's variable is drawn from `replacement`."""

    def __init__(self, mask: np.ndarray, replacement: Mechanism | float) -> None:
        self.mask = np.asarray(mask, dtype=bool)
        self.replacement = replacement


Intervention = Mapping[str, Any]
