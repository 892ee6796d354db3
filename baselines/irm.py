"""IRM (IRMv1, Arjovsky et al. 2019): per-domain risk plus the squared gradient of each domain's
risk with respect to a dummy output scale (the group-wise trainer lives in `grouped.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .grouped import AnnealedPenaltyMLP, AnnealedPenaltyParams, BatchLayout


def scale_gradient(kind: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample d loss(w * out, y) / dw at w = 1, in closed form (the IRMv1 dummy-classifier gradient).

    Squared error: 2 out (out - y); logistic loss on logits: (sigmoid(out) - y) out. Equal to
    what autograd gives through a dummy scale (tested), without a double backward pass.
    """
    if kind == "binary":
        return (torch.sigmoid(out) - y) * out
    return 2 * out * (out - y)


def irm_penalty(kind: str, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
    """IRMv1 penalty: the squared dummy-scale gradient of each group's risk, averaged over groups.

    Unbiased estimate as in DomainBed: the product of the gradients on two halves of the group's rows.
    """
    grads = layout.means(scale_gradient(kind, out, y), halves=True)
    return (grads[:, 0] * grads[:, 1]).mean()


@dataclass(frozen=True)
class IRMParams(AnnealedPenaltyParams):
    """IRMv1 penalty weight lambda: `warmup_penalty_weight` for the first `anneal_steps` steps, then
    `penalty_weight` (DomainBed defaults: 1 then 1e2; anneal after a third of training, between
    DomainBed's 10% and the IRM paper's ~40%)."""

    penalty_weight: float = 1e2


class IRM(AnnealedPenaltyMLP):
    """IRMv1 (Arjovsky et al. 2019): risk + lambda * squared dummy-scale gradient per domain; invariance baseline."""

    Params = IRMParams

    def _penalty(self, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
        return irm_penalty(self.task.target_kind, out, y, layout)
