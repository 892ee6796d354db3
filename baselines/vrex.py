"""V-REx (Krueger et al. 2021): mean group risk + beta * variance of the group risks.

On the observational+domains track the groups are the training domains. On the
interventional track (`vrex-int`) there are no domain labels; the groups are the
intervention regimes, as in invariant causal prediction: rows that had the same
set of variables randomised (the same row of `data.intervened`) form one group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError

from .grouped import AnnealedPenaltyMLP, AnnealedPenaltyParams, BatchLayout, group_labels


@dataclass(frozen=True)
class VRExParams(AnnealedPenaltyParams):
    """beta: `warmup_penalty_weight` for the first `anneal_steps` steps, then `penalty_weight`
    (DomainBed defaults: 1 then 10; same annealing schedule as IRM). `min_group_size`: intervention
    regimes with fewer rows are pooled (interventional track only; see `intervention_groups`); at 100
    rows a group's risk has a relative standard error of about sqrt(2 / 100) = 14%."""

    penalty_weight: float = 10.0
    min_group_size: int = 100


def rex_penalty(risks: torch.Tensor) -> torch.Tensor:
    """V-REx penalty: the (population) variance of the group risks."""
    return ((risks - risks.mean()) ** 2).mean()


def intervention_groups(mask: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by intervention pattern: (row -> group id, (G, k) pattern of each group).

    Patterns with at least `min_size` rows are groups of their own (ordered by first
    appearance). Rows of rarer patterns are pooled into one extra group (its reported
    pattern is the OR of the pooled ones); if that pool is itself smaller than `min_size`,
    it joins the largest group. No row is dropped. With k variables there are
    up to 2^k patterns, so with many variables and few rows V-REx degenerates to ERM.
    """
    mask = np.asarray(mask, dtype=bool)
    patterns, first, inverse, counts = np.unique(mask, axis=0, return_index=True, return_inverse=True,
                                                 return_counts=True)
    inverse = inverse.reshape(-1)
    big = [int(i) for i in np.argsort(first, kind="stable") if counts[i] >= min_size]
    labels = np.full(len(mask), -1, dtype=np.int64)
    for g, i in enumerate(big):
        labels[inverse == i] = g
    group_patterns = [patterns[i] for i in big]
    rare = labels < 0
    if rare.any():
        if rare.sum() >= min_size or not big:
            labels[rare] = len(big)
            group_patterns.append(mask[rare].any(axis=0))
        else:
            largest = int(np.argmax([counts[i] for i in big]))
            labels[rare] = largest
    return labels, np.array(group_patterns, dtype=bool).reshape(len(group_patterns), mask.shape[1])


class VREx(AnnealedPenaltyMLP):
    """V-REx (Krueger et al. 2021): mean risk + beta * variance of group risks; the risk-invariance baseline."""

    Params = VRExParams

    def groups(self, data: Dataset) -> np.ndarray:
        if self.task.track != "interventional":
            return group_labels(data)
        if data.intervened is None:
            raise CausalBenchError("vrex-int needs the `intervened` mask of interventional data")
        labels, self.group_patterns_ = intervention_groups(data.intervened, self.params.min_group_size)
        return labels

    def _penalty(self, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
        return rex_penalty(risks)
