"""Any scikit-learn estimator as a method (numpy in, numpy out), checked against the target's kind.

A regressor cannot give P(Y = 1) for a binary target and a classifier cannot predict a real
target: such pairs are reported as not applicable (a reason from `applicable()`), never a crash
mid-run. A classifier without probabilities (hard 0/1 labels) runs but warns once: its log-loss
scores are dominated by confident mistakes.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from ..data import Dataset
from ..errors import CausalBenchError
from .base import Method, Task


def estimator_mismatch(estimator: Any, target_kind: str) -> str | None:
    """Why `estimator` cannot serve a `target_kind` target ("real" or "binary"), or None if it can."""
    name = type(estimator).__name__
    if not all(hasattr(estimator, a) for a in ("fit", "predict", "get_params")):
        return f"{name} is not a scikit-learn estimator (needs fit, predict and get_params)"
    kind = _estimator_kind(estimator)
    if target_kind == "binary" and kind == "regressor":
        return (f"{name} is a regressor; a binary target needs a classifier with predict_proba "
                "(e.g. LogisticRegression)")
    if target_kind == "real" and kind == "classifier":
        return f"{name} is a classifier; a real-valued target needs a regressor (e.g. LinearRegression)"
    return None


def _estimator_kind(estimator: Any) -> str | None:
    """"classifier", "regressor" or None (unknown: an estimator without scikit-learn's tags)."""
    from sklearn.base import is_classifier, is_regressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "classifier" if is_classifier(estimator) else "regressor" if is_regressor(estimator) else None
        except (AttributeError, TypeError):
            return None


def has_probabilities(estimator: Any) -> bool:
    """Whether `estimator` offers predict_proba (sklearn hides it when unavailable, e.g. SVC(probability=False))."""
    return hasattr(estimator, "predict_proba")


class SklearnMethod(Method):
    """Adapter: any scikit-learn estimator as a method (P(Y = 1) from predict_proba for binary targets)."""

    _init_attrs = ("estimator",)
    template: ClassVar[Any] = None  # the estimator `from_sklearn` wraps (cloned for every fit)

    def __init__(self, task: Task, params: Any = None, seed: int = 0, estimator: Any = None) -> None:
        super().__init__(task, params, seed)
        self.estimator = estimator if estimator is not None else self.template

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        return None if cls.template is None else estimator_mismatch(cls.template, task.target_kind)

    def fit(self, data: Dataset) -> "SklearnMethod":
        from sklearn.base import clone

        reason = estimator_mismatch(self.estimator, self.task.target_kind)
        if reason:
            raise CausalBenchError(f"{self.task.env_id}: {reason}")
        binary = self.task.target_kind == "binary"
        est = clone(self.estimator)
        if "random_state" in est.get_params():
            est.set_params(random_state=self.seed)
        self.estimator_ = est.fit(data.X, data.y.astype(np.int64) if binary else data.y)
        self.hard_labels_ = binary and not has_probabilities(est)
        if self.hard_labels_:
            _warn_hard_labels(est, "has no predict_proba")
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        X = np.asarray(X, dtype=float)
        if self.task.target_kind != "binary" or self.hard_labels_:
            return np.asarray(self.estimator_.predict(X), dtype=float).reshape(len(X))
        p = positive_class_probability(self.estimator_, self.estimator_.predict_proba(X), len(X))
        if len(p) > 1 and np.all((p == 0) | (p == 1)):
            self.hard_labels_ = True  # warn once: from now on the model is known to emit hard labels
            _warn_hard_labels(self.estimator_, "gives only probabilities 0 and 1")
        return p


def _warn_hard_labels(estimator: Any, why: str) -> None:
    warnings.warn(f"{type(estimator).__name__} {why}, so its binary predictions are hard 0/1 labels and log-loss "
                  "punishes every confident mistake; use a probabilistic classifier (or sklearn's "
                  "CalibratedClassifierCV)", UserWarning, stacklevel=3)


def positive_class_probability(estimator: Any, proba: Any, n: int) -> np.ndarray:
    """P(Y = 1) from predict_proba output: an (n, k) array with one column per `classes_`, or (n,) already."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1 or (proba.ndim == 2 and proba.shape[1] == 1 and not hasattr(estimator, "classes_")):
        return proba.reshape(n)
    classes = np.asarray(getattr(estimator, "classes_", np.arange(proba.shape[1])))
    hit = np.flatnonzero(classes == 1)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise CausalBenchError(f"{type(estimator).__name__}.predict_proba returned shape {proba.shape} "
                               f"for {len(classes)} classes")
    return proba[:, hit[0]].copy() if hit.size else np.zeros(n)  # class 1 never seen in training: P = 0


def from_sklearn(estimator: Any) -> type[Method]:
    """A Method class wrapping `estimator` (usable with `register_method`); not applicable where it cannot work."""

    class Wrapped(SklearnMethod):
        template = estimator

        def __init__(self, task: Task, params: Any = None, seed: int = 0) -> None:
            super().__init__(task, params, seed, estimator)

    Wrapped.__name__ = Wrapped.__qualname__ = f"Sklearn{type(estimator).__name__}"
    Wrapped.__doc__ = f"scikit-learn {type(estimator).__name__} as a method."
    return Wrapped
