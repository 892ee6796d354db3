"""Offline policy: the per-action outcome (Q-) model a decision-maker fits from logged, confounded records.

For each action value a, a linear (real target) or logistic (binary target) model of
Y on the context features, fitted on the logged rows that took action a. Logged
actions come from the action variable's own mechanism, which the hidden confounder
drives, so the per-action models absorb the confounding: on TreatmentRecovery the
treated rows are the severe cases (treatment looks harmful), on IceCreamShorts the
rows with high ice-cream sales are the hot days (pushing ice cream looks profitable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causalbench.data import Dataset
from causalbench.methods import Method, Task
from causalbench.methods.selection import LogUniform


@dataclass(frozen=True)
class OfflinePolicyParams:
    """ridge: L2 penalty (times the action's row count) on standardised context weights, not the intercept.

    min_rows: an action logged fewer times than this borrows the model fitted on all
    rows (the records say too little about it to fit its own).
    newton_steps: IRLS iterations for binary targets (stops early at convergence).
    """

    ridge: float = 1e-4
    min_rows: int = 10
    newton_steps: int = 50

    def search_space(self) -> dict[str, Any]:
        """The L2 penalty, 10^U(-6, 0)."""
        return {"ridge": LogUniform(1e-6, 1.0)}


def decision_task_problem(task: Task) -> str | None:
    """None if `task` is a decision task whose features are exactly its context and action columns."""
    if task.action is None:
        return f"{task.env_id} has no action variable (not a decision task)"
    if not task.action_values:
        return f"{task.env_id}: the action {task.action!r} has no finite grid of values"
    if sorted(task.feature_names) != sorted((*task.context, task.action)):
        return f"{task.env_id}: features are not the context and action columns (rendered observations)"
    return None


def nearest_action(a: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the action value nearest to each a (ties go to the lower value)."""
    return np.argmin(np.abs(np.asarray(a, float)[:, None] - values[None, :]), axis=1)


def fit_glm(Z: np.ndarray, y: np.ndarray, kind: str, ridge: float, newton_steps: int) -> np.ndarray:
    """Ridge least squares (real) or ridge logistic regression by IRLS (binary); last column of Z is 1."""
    p = Z.shape[1]
    penalty = ridge * max(len(Z), 1) * np.diag([1.0] * (p - 1) + [0.0]) + 1e-9 * np.eye(p)
    if kind == "real":
        return np.linalg.solve(Z.T @ Z + penalty, Z.T @ y)
    w = np.zeros(p)
    for _ in range(newton_steps):
        mu = 1 / (1 + np.exp(-np.clip(Z @ w, -30, 30)))
        step = np.linalg.solve((Z * (mu * (1 - mu))[:, None]).T @ Z + penalty, Z.T @ (mu - y) + penalty @ w)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w


class OfflinePolicy(Method):
    """Per-action outcome model fitted on logged, confounded records: the offline direct method (Dudik et al. 2011)."""

    Params = OfflinePolicyParams

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        return decision_task_problem(task)

    def _columns(self) -> tuple[int, list[int]]:
        names = list(self.task.feature_names)
        return names.index(self.task.action), [names.index(c) for c in self.task.context]

    def _design(self, X: np.ndarray) -> np.ndarray:
        _, ctx = self._columns()
        return np.column_stack([(X[:, ctx] - self.mean_) / self.sd_, np.ones(len(X))])

    def fit(self, data: Dataset) -> "OfflinePolicy":
        """Logged real-valued actions are discretised to the nearest grid value (ties: the lower one)."""
        X, y = np.asarray(data.X, float), np.asarray(data.y, float)
        act, ctx = self._columns()
        values = np.asarray(self.task.action_values, float)
        self.mean_ = X[:, ctx].mean(axis=0)
        sd = X[:, ctx].std(axis=0)
        self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        Z = self._design(X)
        arm = nearest_action(X[:, act], values)
        kind, prm = self.task.target_kind, self.params
        pooled = fit_glm(Z, y, kind, prm.ridge, prm.newton_steps)
        self.counts_ = np.bincount(arm, minlength=len(values))
        self.coef_ = np.array([fit_glm(Z[arm == k], y[arm == k], kind, prm.ridge, prm.newton_steps)
                               if self.counts_[k] >= prm.min_rows else pooled for k in range(len(values))])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted outcome (P(Y = 1) for binary targets) under each row's action (nearest grid value)."""
        self.check_fitted()
        X = np.asarray(X, float)
        act, _ = self._columns()
        arm = nearest_action(X[:, act], np.asarray(self.task.action_values, float))
        z = np.einsum("ij,ij->i", self._design(X), self.coef_[arm])
        return z if self.task.target_kind == "real" else 1 / (1 + np.exp(-np.clip(z, -30, 30)))
