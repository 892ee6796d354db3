"""IRM (IRMv1, Arjovsky et al. 2019) in two named forms, chosen by the `form` hyper-parameter.

- "domainbed-mlp" (the default of `irm`): DomainBed's minibatch MLP, per-domain risk plus lambda
  times the squared gradient of each domain's risk with respect to a scalar dummy output scale
  (unbiased two-halves estimate), annealed lambda (the group-wise trainer lives in `grouped.py`).
- "linear": the paper's synthetic-experiment algorithm (code/experiment_synthetic/models.py):
  f(x) = x @ phi @ w with phi d x d (init I) and w a fixed all-ones dummy, full-batch Adam on
  reg * sum_e R_e + (1 - reg) * sum_e mean_j (dR_e / dw_j)^2, one run per reg, and, with several
  regs, the reg whose model has the lowest error on the last domain (the paper's validation
  environment) is kept. `PAPER_SYNTHETIC` holds the paper's settings (`irm-paper`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods.selection import Choice, LogUniform

from .grouped import AnnealedPenaltyMLP, AnnealedPenaltyParams, BatchLayout
from .linear_groups import FORMS, LINEAR, LinearFormParams, fit_linear_form, irmv1_paper

PAPER_REGS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)   # models.py: `for reg in [0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]`
# Arjovsky et al.'s synthetic experiment, as IRMParams overrides (main.py defaults: --n_iterations 100000, --lr 1e-3).
PAPER_SYNTHETIC = {"form": LINEAR, "parametrization": "matrix", "intercept": False, "standardize": False,
                   "regs": PAPER_REGS, "lr": 1e-3, "steps": 100_000}


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
class IRMParams(AnnealedPenaltyParams, LinearFormParams):
    """domainbed-mlp form: lambda = `warmup_penalty_weight` for the first `anneal_steps` steps, then
    `penalty_weight` (DomainBed defaults: 1 then 1e2; anneal after a third of training, between
    DomainBed's 10% and the IRM paper's ~40%). linear form: `regs`, the paper's weights in
    reg * error + (1 - reg) * penalty (reg = 1 / (1 + lambda)); with several, selected on the last domain."""

    penalty_weight: float = 1e2
    regs: tuple[float, ...] = (1e-2,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regs", tuple(float(r) for r in self.regs))
        if self.form not in FORMS:
            raise CausalBenchError(f"IRM form must be one of {', '.join(FORMS)}, got {self.form!r}")
        if not self.regs or not all(0.0 <= r <= 1.0 for r in self.regs):
            raise CausalBenchError(f"IRM regs must be a non-empty list of numbers in [0, 1], got {list(self.regs)}")

    def search_space(self) -> dict[str, Any]:
        """domainbed-mlp: DomainBed's. linear: one reg from the paper's grid and lr 10^U(-4, -2); nothing when
        `regs` already lists several (the paper's own selection on the last domain)."""
        if self.form != LINEAR:
            return super().search_space()
        if len(self.regs) > 1:
            return {}
        return {"regs": Choice(tuple((r,) for r in PAPER_REGS)), "lr": LogUniform(1e-4, 1e-2)}


class IRM(AnnealedPenaltyMLP):
    """IRMv1 (Arjovsky et al. 2019): risk + lambda * squared dummy-scale gradient per domain; invariance baseline."""

    Params = IRMParams

    def fit(self, data: Dataset) -> "IRM":
        p = self.params
        if p.form != LINEAR:
            return super().fit(data)
        found = fit_linear_form(data.X, data.y, self.groups(data), self.task.target_kind, p, p.regs, irmv1_paper,
                                p.lr, p.steps)
        self.model_, self.reg_, self.validation_risks_ = found.model, found.weight, found.validation_risks
        return self

    def _penalty(self, risks: torch.Tensor, out: torch.Tensor, y: torch.Tensor, layout: BatchLayout) -> torch.Tensor:
        return irm_penalty(self.task.target_kind, out, y, layout)
