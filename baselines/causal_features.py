"""ERM on the causal features: the ERM-MLP trained on the causal (and action) feature columns only.

Privileged (it is told the roles). It learns E[Y | causal features], which is confounded wherever a
causal feature has a back-door path to Y: it is not the causal reference E[Y | do(X)], only the best
predictor that ignores every non-causal feature."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalbench.data import Dataset
from causalbench.errors import CausalBenchError
from causalbench.methods import Method, Task

from .nets import MLPModel, MLPParams


@dataclass(frozen=True)
class CausalFeaturesParams(MLPParams):
    """The ERM-MLP defaults (same network and budget), so the only difference is the input columns."""


class CausalFeaturesMLP(Method):
    """Privileged: an MLP on the causal columns only, so non-causal ones cannot matter."""

    Params = CausalFeaturesParams
    privileged = True

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        try:
            columns = task.causal_columns()
        except CausalBenchError as err:
            return str(err)
        return None if columns else f"{task.env_id}: no causal or action feature columns"

    def fit(self, data: Dataset) -> "CausalFeaturesMLP":
        reason = self.applicable(self.task)
        if reason is not None:
            raise CausalBenchError(f"erm-causal-features is not applicable: {reason}")
        self.columns_ = np.array(self.task.causal_columns(), dtype=int)
        X = np.asarray(data.X, dtype=float)[:, self.columns_]
        self.model_ = MLPModel(X, data.y, self.task.target_kind, self.params, self.seed).train(X, data.y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.model_.predict(np.asarray(X, dtype=float)[:, self.columns_])
