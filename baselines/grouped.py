"""Group-wise MLP training shared by the domain-generalisation baselines (IRM, V-REx, Group DRO).

As in DomainBed's `algorithms.py`: every step draws one equal-sized minibatch per group
(training domain, or intervention regime; `batch_size` split evenly), computes each
group's risk, and minimises a method-specific combination of the risks (groups count
equally, whatever their size). Methods differ only in `_objective` (and in how rows are
grouped). The network is `nets.MLPModel`, as for ERM-MLP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods import Method
from causalbench.methods.selection import IntLogUniform, LogUniform

from .nets import MLPModel, MLPParams, minibatches, per_sample_loss, target_tensor


@dataclass(frozen=True)
class BatchLayout:
    """Where each group sits in every step's stacked minibatch (the same layout at every step).

    `group[i]` is row i's group; `half[i]` = 2 * group + (position within the group's block) % 2,
    the two interleaved halves DomainBed's unbiased IRM penalty uses.
    """

    group: torch.Tensor
    counts: torch.Tensor
    half: torch.Tensor
    half_counts: torch.Tensor

    @classmethod
    def of(cls, sizes: list[int]) -> "BatchLayout":
        group = torch.repeat_interleave(torch.arange(len(sizes)), torch.as_tensor(sizes))
        half = 2 * group + torch.cat([torch.arange(m) % 2 for m in sizes])
        return cls(group, torch.bincount(group).float(), half, torch.bincount(half, minlength=2 * len(sizes)).float())

    def means(self, values: torch.Tensor, halves: bool = False) -> torch.Tensor:
        """Per-group (or per-half: shape (G, 2)) means of per-sample `values`."""
        ids, counts = (self.half, self.half_counts) if halves else (self.group, self.counts)
        sums = torch.zeros(len(counts), dtype=values.dtype).index_add(0, ids, values)
        out = sums / counts.clamp(min=1)
        return out.view(-1, 2) if halves else out


def group_labels(data: Dataset) -> np.ndarray:
    """Training-domain labels 0..K-1 (the observational+domains track)."""
    if data.domain is None:
        raise CausalBenchError("this method needs domain labels; train it on the observational+domains track")
    return np.asarray(data.domain)


class GroupMLP(Method):
    """Base class: an MLP trained on per-group minibatches with a risk-combining objective (not registered)."""

    Params = MLPParams

    def groups(self, data: Dataset) -> np.ndarray:
        """Row -> group label (any ints; groups are taken in sorted label order). Default: the training domains."""
        return group_labels(data)

    def _objective(self, step: int, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor,
                   layout: BatchLayout) -> torch.Tensor:
        """The loss to minimise at `step` from the (G,) group risks (and the batch's outputs and targets)."""
        return risks.mean()

    def _reset_step(self) -> int | None:
        """The step at which Adam is re-created (penalty annealing), or None."""
        return None

    def _start(self, n_groups: int) -> None:
        """Called once per fit, before the first step (initialise method state here)."""

    def fit(self, data: Dataset) -> "GroupMLP":
        p, kind = self.params, self.task.target_kind
        X, y = np.asarray(data.X, float), np.asarray(data.y, float)
        ids, labels = np.unique(self.groups(data), return_inverse=True)  # groups present, relabelled 0..G-1
        labels = labels.reshape(-1)
        # The shared MLP (seeded init, input and real-target standardisation, Adam) with our own loop.
        self.model_ = model = MLPModel(X, y, kind, p, self.seed)
        Xt, yt = model.scale_x(X), target_tensor((y - model.y_mean) / model.y_sd)
        # One minibatch per group per step (batch_size split evenly), all steps drawn up front.
        rows = [torch.as_tensor(np.flatnonzero(labels == g)) for g in range(len(ids))]
        per_group = max(2, p.batch_size // len(rows))
        plan = torch.cat([r[torch.stack(list(minibatches(len(r), per_group, p.steps, model.gen)))] for r in rows],
                         dim=1)
        layout = BatchLayout.of([min(per_group, len(r)) for r in rows])
        self._start(len(rows))
        for step in range(p.steps):
            if step == self._reset_step():
                # A fresh Adam (same settings): it dislikes the jump in gradient scale when the penalty switches on.
                model.opt = type(model.opt)(model.net.parameters(), **model.opt.defaults)
            idx = plan[step]
            out, target = model.net(Xt[idx]).reshape(-1), yt[idx]
            risks = layout.means(per_sample_loss(kind, out, target))
            loss = self._objective(step, risks, out, target, layout)
            model.opt.zero_grad(set_to_none=True)
            loss.backward()
            model.opt.step()
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.model_.predict(X)


@dataclass(frozen=True)
class AnnealedPenaltyParams(MLPParams):
    """Penalty weight `warmup_penalty_weight` for the first `anneal_steps` steps, then `penalty_weight`
    (Adam is re-created at the switch, as in DomainBed)."""

    penalty_weight: float = 1.0
    warmup_penalty_weight: float = 1.0
    anneal_steps: int = 50    # a third of the step budget, as DomainBed's schedule

    def search_space(self) -> dict[str, Any]:
        """The MLP space plus DomainBed's penalty weight 10^U(-1, 5) and annealing length 10^U(0, log10 steps)
        (DomainBed: 10^U(0, 4) of 5,000 steps; here scaled to the step budget)."""
        return {**super().search_space(), "penalty_weight": LogUniform(1e-1, 1e5),
                "anneal_steps": IntLogUniform(1, max(1, self.steps))}


class AnnealedPenaltyMLP(GroupMLP):
    """Mean group risk + an annealed weight times a method-specific penalty (IRM, V-REx)."""

    Params = AnnealedPenaltyParams

    def _penalty(self, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
        raise NotImplementedError

    def _reset_step(self) -> int | None:
        return self.params.anneal_steps

    def _objective(self, step: int, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor,
                   layout: BatchLayout) -> torch.Tensor:
        p = self.params
        weight = p.penalty_weight if step >= p.anneal_steps else p.warmup_penalty_weight
        return risks.mean() + weight * self._penalty(risks, out, y, layout)
