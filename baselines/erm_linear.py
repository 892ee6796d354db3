"""ERM-linear: ordinary least squares (real target) or L2-regularised logistic regression (binary)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causalbench.data import Dataset
from causalbench.methods import Method
from causalbench.methods.selection import LogUniform


@dataclass(frozen=True)
class ErmLinearParams:
    """ridge: L2 penalty on standardised weights (tiny: numerically safe, statistically negligible).
    fit_intercept: False fits through the origin on unscaled features (scikit-learn's
    `LinearRegression(fit_intercept=False)`, the IRM paper's ERM with ridge = 0)."""

    ridge: float = 1e-6
    newton_steps: int = 50
    fit_intercept: bool = True

    def search_space(self) -> dict[str, Any]:
        """The L2 penalty, 10^U(-8, -1)."""
        return {"ridge": LogUniform(1e-8, 1e-1)}


class ErmLinear(Method):
    """Empirical risk minimisation with a linear model, in closed form / by Newton's method.

    The textbook learner DESIGN.md's known answers are stated for: on IceCreamShorts its
    slope on ice cream is a b / (a^2 + 1) (per climate). Uses every feature it is given.
    """

    Params = ErmLinearParams

    def fit(self, data: Dataset) -> "ErmLinear":
        X, y = np.asarray(data.X, float), np.asarray(data.y, float)
        if self.params.fit_intercept:
            self.mean_, sd = X.mean(axis=0), X.std(axis=0)
            self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        else:
            self.mean_, self.sd_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        Z = self._design(X)
        penalty = self.params.ridge * len(X) * np.diag([1.0] * X.shape[1] + [0.0] * self.params.fit_intercept)
        if self.task.target_kind == "real":
            self.coef_ = (np.linalg.lstsq(Z, y, rcond=None)[0] if self.params.ridge == 0  # plain least squares
                          else np.linalg.solve(Z.T @ Z + penalty, Z.T @ y))
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

    def _design(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, float) - self.mean_) / self.sd_
        return np.column_stack([Z, np.ones(len(Z))]) if self.params.fit_intercept else Z

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        z = self._design(X) @ self.coef_
        return z if self.task.target_kind == "real" else 1 / (1 + np.exp(-np.clip(z, -30, 30)))

    def weights(self) -> np.ndarray:
        """Coefficients on the original feature scale (for analysis and tests)."""
        return self.coef_[:len(self.sd_)] / self.sd_
