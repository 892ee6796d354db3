"""Group DRO (Sagawa et al. 2020, Algorithm 1): minimise the worst training-domain risk by online group weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .grouped import BatchLayout, GroupMLP
from .nets import MLPParams


@dataclass(frozen=True)
class GroupDROParams(MLPParams):
    """eta: step size of the exponentiated-gradient update of the group weights (DomainBed default 1e-2;
    risks are on the standardised target, so eta means the same on every env)."""

    eta: float = 1e-2


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
