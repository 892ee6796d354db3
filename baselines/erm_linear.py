"""ERM-linear: ordinary least squares (real target) or L2-regularised logistic regression (binary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalbench.data import Dataset
from causalbench.methods import Method


@dataclass(frozen=True)
class ErmLinearParams:
    """ridge: L2 penalty on standardised weights (tiny: numerically safe, statistically negligible)."""

    ridge: float = 1e-6
    newton_steps: int = 50


class ErmLinear(Method):
    """Empirical risk minimisation with a linear model, in closed form / by Newton's method.

    The textbook learner DESIGN.md's known answers are stated for: on IceCreamShorts its
    slope on ice cream is a b / (a^2 + 1) (per climate). Uses every feature it is given.
    """

    Params = ErmLinearParams

    def fit(self, data: Dataset) -> "ErmLinear":
        X, y = np.asarray(data.X, float), np.asarray(data.y, float)
        self.mean_, sd = X.mean(axis=0), X.std(axis=0)
        self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        Z = np.column_stack([(X - self.mean_) / self.sd_, np.ones(len(X))])
        penalty = self.params.ridge * len(X) * np.diag([1.0] * X.shape[1] + [0.0])
        if self.task.target_kind == "real":
            self.coef_ = np.linalg.solve(Z.T @ Z + penalty, Z.T @ y)
            return self
        w = np.zeros(Z.shape[1])
        for _ in range(self.params.newton_steps):  # iteratively reweighted least squares
            p = 1 / (1 + np.exp(-np.clip(Z @ w, -30, 30)))
            grad = Z.T @ (p - y) + penalty @ w
            hess = (Z * (p * (1 - p))[:, None]).T @ Z + penalty + 1e-9 * np.eye(len(w))
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.max(np.abs(step)) < 1e-10:
                break
        self.coef_ = w
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        z = ((np.asarray(X, float) - self.mean_) / self.sd_) @ self.coef_[:-1] + self.coef_[-1]
        return z if self.task.target_kind == "real" else 1 / (1 + np.exp(-np.clip(z, -30, 30)))

    def weights(self) -> np.ndarray:
        """Coefficients on the original feature scale (for analysis and tests)."""
        return self.coef_[:-1] / self.sd_
