"""Causal oracle: the ERM-MLP trained on the causal (and action) feature columns only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods import Method, Task

from .nets import MLPModel, MLPParams


@dataclass(frozen=True)
class CausalOracleParams(MLPParams):
    """The ERM-MLP defaults (same network and budget), so the only difference is the input columns."""


class CausalOracle(Method):
    """Upper reference: an MLP on the causal columns only (privileged roles), so spurious ones cannot matter."""

    Params = CausalOracleParams
    privileged = True

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        try:
            columns = task.causal_columns()
        except CausalBenchError as err:
            return str(err)
        return None if columns else f"{task.env_id}: no causal or action feature columns"

    def fit(self, data: Dataset) -> "CausalOracle":
        reason = self.applicable(self.task)
        if reason is not None:
            raise CausalBenchError(f"causal-oracle is not applicable: {reason}")
        self.columns_ = np.array(self.task.causal_columns(), dtype=int)
        X = np.asarray(data.X, dtype=float)[:, self.columns_]
        self.model_ = MLPModel(X, data.y, self.task.target_kind, self.params, self.seed).train(X, data.y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.model_.predict(np.asarray(X, dtype=float)[:, self.columns_])
