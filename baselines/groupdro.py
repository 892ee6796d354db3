"""Group DRO (Sagawa et al. 2020): minimise the worst training-domain risk with online group weights q.

Two named forms (`form`):
- "domainbed-mlp" (the default of `groupdro`): DomainBed's version; every step draws a minibatch of
  every group, q_g <- q_g exp(eta R_g) for all g, normalised, and Adam takes a step on q . R.
- "algorithm1": the paper's Algorithm 1 as stated: each step samples one group g uniformly and a
  minibatch z from it, q_g <- q_g exp(eta l(theta; z)), q <- q / sum q, and
  theta <- theta - lr * q_g * grad l(theta; z) (plain SGD; `weight_decay` adds the L2 term
  the paper's experiments rely on). The steps-by-groups plan is drawn from the seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods.selection import LogUniform

from .grouped import BatchLayout, GroupMLP
from .nets import MLPModel, MLPParams, per_sample_loss, target_tensor

DRO_FORMS = ("domainbed-mlp", "algorithm1")


@dataclass(frozen=True)
class GroupDROParams(MLPParams):
    """eta: step size of the exponentiated-gradient update of the group weights (DomainBed default 1e-2;
    risks are on the standardised target, so eta means the same on every env). form: see the module doc;
    "algorithm1" uses `lr` as the SGD step size eta_theta."""

    eta: float = 1e-2
    form: str = "domainbed-mlp"

    def __post_init__(self) -> None:
        if self.form not in DRO_FORMS:
            raise CausalBenchError(f"Group DRO form must be one of {', '.join(DRO_FORMS)}, got {self.form!r}")

    def search_space(self) -> dict[str, Any]:
        """The MLP space plus DomainBed's eta 10^U(-3, -1)."""
        return {**super().search_space(), "eta": LogUniform(1e-3, 1e-1)}


def algorithm1_step(net: torch.nn.Module, opt: torch.optim.Optimizer, q: np.ndarray, g: int, X: torch.Tensor,
                    y: torch.Tensor, eta: float, kind: str) -> np.ndarray:
    """One iteration of Sagawa et al.'s Algorithm 1 on the minibatch (X, y) of group g; returns the new q.

    q'_g = q_g exp(eta l(theta; z)), q = q' / sum q'; then one `opt` step on q_g * l(theta; z).
    """
    loss = per_sample_loss(kind, net(X).reshape(-1), y).mean()
    q = q.copy()
    q[g] *= np.exp(eta * float(loss.detach()))
    q /= q.sum()
    opt.zero_grad(set_to_none=True)
    (float(q[g]) * loss).backward()
    opt.step()
    return q


class GroupDRO(GroupMLP):
    """Group DRO (Sagawa et al. 2020): minimise the worst training-domain risk; the robust-optimisation baseline."""

    Params = GroupDROParams

    def _start(self, n_groups: int) -> None:
        self.group_weights_ = np.full(n_groups, 1.0 / n_groups)  # q, uniform at the start
        self.weight_history_ = np.empty((self.params.steps, n_groups))  # q after each step

    def _objective(self, step: int, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor,
                   layout: BatchLayout) -> torch.Tensor:
        q = self.group_weights_ * np.exp(self.params.eta * risks.detach().double().numpy())
        self.group_weights_ = q / q.sum()
        self.weight_history_[step] = self.group_weights_
        return torch.dot(torch.as_tensor(self.group_weights_, dtype=risks.dtype), risks)

    def fit(self, data: Dataset) -> "GroupDRO":
        if self.params.form != "algorithm1":
            return super().fit(data)
        p, kind = self.params, self.task.target_kind
        X, y = np.asarray(data.X, float), np.asarray(data.y, float)
        labels = np.unique(self.groups(data), return_inverse=True)[1].reshape(-1)
        self.model_ = model = MLPModel(X, y, kind, p, self.seed)
        Xt, yt = model.scale_x(X), target_tensor((y - model.y_mean) / model.y_sd)
        rows = [torch.as_tensor(np.flatnonzero(labels == g)) for g in range(labels.max() + 1)]
        opt = torch.optim.SGD(model.net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        plan = torch.randint(len(rows), (p.steps,), generator=model.gen)          # g ~ Uniform(groups)
        self._start(len(rows))
        q = self.group_weights_
        for step, g in enumerate(plan.tolist()):
            idx = rows[g][torch.randint(len(rows[g]), (min(p.batch_size, len(rows[g])),), generator=model.gen)]
            q = algorithm1_step(model.net, opt, q, g, Xt[idx], yt[idx], p.eta, kind)
            self.weight_history_[step] = q
        self.group_weights_ = q
        return self
