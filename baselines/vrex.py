"""V-REx (Krueger et al. 2021): risks + beta * variance of the group risks, in two named forms (`form`).

- "domainbed-mlp" (the default of `vrex`, `vrex-int`): DomainBed's minibatch MLP, mean group risk +
  an annealed weight times the variance of the group risks (Adam reset when the weight switches).
- "linear": the paper's stated objective, sum_e R_e + beta * Var_e(R_e) (eq. 7), for a linear model
  trained full batch by Adam, as the REx code runs the IRM synthetic SEMs (experiment_synthetic of
  capybaralet/REx_code_release: vector weights from 1, one run per beta, and, with several betas,
  the one with the lowest risk on the last group, the validation environment, is kept).

On the observational+domains track the groups are the training domains. On the
interventional track (`vrex-int`) there are no domain labels; the groups are the
intervention regimes, as in invariant causal prediction: rows that had the same
set of variables randomised (the same row of `data.intervened`) form one group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods.selection import Choice, LogUniform

from .grouped import AnnealedPenaltyMLP, AnnealedPenaltyParams, BatchLayout, group_labels
from .linear_groups import FORMS, LINEAR, LinearFormParams, Objective, fit_linear_form, risk_weighted


@dataclass(frozen=True)
class VRExParams(AnnealedPenaltyParams, LinearFormParams):
    """domainbed-mlp form: beta = `warmup_penalty_weight` for the first `anneal_steps` steps, then
    `penalty_weight` (DomainBed defaults: 1 then 10; same annealing schedule as IRM). linear form:
    `betas` in sum_e R_e + beta Var_e(R_e); with several, selected on the last group; `parametrization`
    "vector" as the REx code's SEM runs. `min_group_size`: intervention regimes with fewer rows are
    pooled (interventional track only; see `intervention_groups`); at 100 rows a group's risk has a
    relative standard error of about sqrt(2 / 100) = 14%."""

    penalty_weight: float = 10.0
    min_group_size: int = 100
    parametrization: str = "vector"
    betas: tuple[float, ...] = (10.0,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.form not in FORMS:
            raise CausalBenchError(f"V-REx form must be one of {', '.join(FORMS)}, got {self.form!r}")
        if not self.betas or not all(b >= 0 for b in self.betas):
            raise CausalBenchError(f"V-REx betas must be a non-empty list of numbers >= 0, got {list(self.betas)}")

    def search_space(self) -> dict[str, Any]:
        """domainbed-mlp: DomainBed's. linear: one beta in 10^{-1..4} and lr 10^U(-4, -2); nothing when `betas`
        already lists several (selected on the last group)."""
        if self.form != LINEAR:
            return super().search_space()
        if len(self.betas) > 1:
            return {}
        return {"betas": Choice(tuple((10.0 ** k,) for k in range(-1, 5))), "lr": LogUniform(1e-4, 1e-2)}


def rex_penalty(risks: torch.Tensor) -> torch.Tensor:
    """V-REx penalty: the (population) variance of the group risks."""
    return ((risks - risks.mean()) ** 2).mean()


def vrex_paper(betas: np.ndarray) -> Objective:
    """Krueger et al.'s V-REx objective per beta: sum_e R_e + beta * Var_e(R_e) (population variance over groups).

    d/dR_g = 1 + beta * 2 (R_g - mean R) / G.
    """
    betas = np.asarray(betas, dtype=float)[:, None]

    def coef(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dev = R - R.mean(axis=1, keepdims=True)
        return R.sum(axis=1) + betas[:, 0] * (dev ** 2).mean(axis=1), 1 + betas * 2 * dev / R.shape[1]

    return risk_weighted(coef)


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

    def fit(self, data: Dataset) -> "VREx":
        p = self.params
        if p.form != LINEAR:
            return super().fit(data)
        found = fit_linear_form(data.X, data.y, self.groups(data), self.task.target_kind, p, p.betas, vrex_paper,
                                p.lr, p.steps)
        self.model_, self.beta_, self.validation_risks_ = found.model, found.weight, found.validation_risks
        return self

    def groups(self, data: Dataset) -> np.ndarray:
        if self.task.track != "interventional":
            return group_labels(data)
        if data.intervened is None:
            raise CausalBenchError("vrex-int needs the `intervened` mask of interventional data")
        labels, self.group_patterns_ = intervention_groups(data.intervened, self.params.min_group_size)
        return labels

    def _penalty(self, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
        return rex_penalty(risks)
