"""ERM-MLP: empirical risk minimisation with a small ReLU MLP (torch), trained by minibatch Adam."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalbench.data import Dataset
from causalbench.methods import Method

from .nets import MLPModel, MLPParams


@dataclass(frozen=True)
class ErmMLPParams(MLPParams):
    """Shared MLP defaults: 2 hidden layers of 64 ReLUs, Adam lr 3e-3, L2 1e-4, 150 steps of 1,024 rows.

    Inputs are standardised and real targets too (both on the training data); the step budget
    is fixed, not tuned on any test set (about 30 epochs at n = 5,000).
    """


class ErmMLP(Method):
    """ERM with a flexible non-linear learner: the "just scale the model" baseline (Vapnik, 1992; DESIGN.md)."""

    Params = ErmMLPParams

    def fit(self, data: Dataset) -> "ErmMLP":
        self.model_ = MLPModel(data.X, data.y, self.task.target_kind, self.params, self.seed).train(data.X, data.y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.model_.predict(X)
