"""Any scikit-learn estimator as a method (numpy in, numpy out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Dataset
from .base import Method, Task


class SklearnMethod(Method):
    """Adapter: any scikit-learn estimator as a method (predict_proba[:, 1] for binary targets)."""

    _init_attrs = ("estimator",)

    def __init__(self, task: Task, params: Any = None, seed: int = 0, estimator: Any = None) -> None:
        super().__init__(task, params, seed)
        self.estimator = estimator

    def fit(self, data: Dataset) -> "SklearnMethod":
        from sklearn.base import clone

        est = clone(self.estimator)
        if "random_state" in est.get_params():
            est.set_params(random_state=self.seed)
        self.estimator_ = est.fit(data.X, data.y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        X = np.asarray(X, dtype=float)
        if self.task.target_kind == "binary":
            return self.estimator_.predict_proba(X)[:, 1]
        return np.asarray(self.estimator_.predict(X), dtype=float)


def from_sklearn(estimator: Any) -> type[Method]:
    """A Method class wrapping `estimator` (usable with `register_method`)."""

    class Wrapped(SklearnMethod):
        def __init__(self, task: Task, params: Any = None, seed: int = 0) -> None:
            super().__init__(task, params, seed, estimator)

    Wrapped.__name__ = f"Sklearn{type(estimator).__name__}"
    return Wrapped
