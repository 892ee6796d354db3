"""The training mixture: n units split evenly over the domains, each domain drawing from its own stream.

One sampler for datasets, test sets, probes and Monte-Carlo truth. With `paired=True` each
domain's units keep their exogenous noise, so `sample(do)` for different interventions gives
unit-level counterfactual pairs (the scorer's low-variance effect and regret probes).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..scm import SCM, Intervention, Sample
from ..seeding import derive

# do= for a mixture: one intervention for every domain, or a function (domain index, rows, scm) -> intervention.
MixtureDo = Mapping[str, Any] | Callable[[int, int, SCM], Intervention] | None


def split(n: int, k: int) -> list[int]:
    """n rows over k parts as evenly as possible, the first parts one larger."""
    return [n // k + (i < n % k) for i in range(k)]


class Mixture:
    """n units of a uniform mixture of `scms` (named `names`), seeded by `derive(seed, *context, name)`."""

    def __init__(self, scms: Sequence[SCM], names: Sequence[str], n: int, seed: Any, context: Sequence[str],
                 paired: bool = False) -> None:
        self.parts: list[tuple[int, SCM, int, Any]] = []
        for k, (scm, name, m) in enumerate(zip(scms, names, split(n, len(scms)))):
            if m > 0:
                ss = derive(seed, *context, name)
                self.parts.append((k, scm, m, scm.units(m, ss) if paired else ss))
        self.paired = paired

    @property
    def labels(self) -> np.ndarray:
        """The domain index of every unit (units are stored domain by domain)."""
        return np.concatenate([np.full(m, k, dtype=np.int64) for k, _, m, _ in self.parts])

    def sample(self, do: MixtureDo = None) -> Sample:
        """Every unit's variables (Fortran-ordered), optionally under an intervention."""
        out = []
        for k, scm, m, source in self.parts:
            intervention = do(k, m, scm) if callable(do) else do
            out.append(source.sample(intervention) if self.paired else scm.sample(m, source, do=intervention))
        data = np.asfortranarray(np.concatenate([p.data for p in out])) if len(out) > 1 else out[0].data
        return Sample(data, out[0].names, out[0].index)
