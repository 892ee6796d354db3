"""Online bandit: Thompson sampling with a per-action Bayesian linear / logistic outcome model.

It learns by acting: each episode it sees the context, samples a model per action from
the posterior, takes the action whose sampled outcome has the highest utility and
updates that action's posterior with the realised outcome. Its actions are its own
randomisation, not the confounded logged policy, so the hidden confounder cannot bias
what it learns: the online track's answer to causal confusion.

Posteriors (per action k, on the context standardised by the first batch of contexts
the env shows, plus an intercept):
- real target: Bayesian ridge regression, prior w ~ N(0, s2 / prior_precision I); the
  posterior is N(mu, s2 Lambda^-1) (Agrawal & Goyal 2013) with the noise variance s2 at
  its normal-inverse-gamma posterior estimate b / a (prior a0 = b0 = 1). The sufficient
  statistics are exact, so batching loses nothing.
- binary target: logistic regression with a Gaussian (Laplace) approximation updated
  batch by batch (Chapelle & Li 2011): the previous posterior N(m, P^-1) is the prior,
  the new mean is the MAP (Newton), the new precision P + Z' diag(p(1 - p)) Z.
  `predict` returns the posterior mean probability by the probit approximation
  sigmoid(mu'z / sqrt(1 + pi z'Sigma z / 8)) (MacKay 1992).
Actions maximise the utility of the sampled model's mean outcome (exact for the
utilities here, which are linear in the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causalbench.methods import Method, Task

from .offline_policy import decision_task_problem, nearest_action

DEFAULT_BUDGET = 20_000


def default_budget(task: Task) -> int:
    """Environment steps the harness grants an online method on `task` (summed over sub-envs).

    20,000 one-step episodes: the data of a few static training sets (n = 5,000), enough
    for Thompson sampling to separate actions whose utilities differ by ~0.1 sd(Y), and
    under a second at num_envs = 256 on the built-in decision envs.
    """
    return DEFAULT_BUDGET


@dataclass(frozen=True)
class OnlineBanditParams:
    """prior_precision: prior precision of standardised weights and intercept (relative to the noise
    variance for real targets); a0, b0: inverse-gamma prior on the noise variance (real targets);
    newton_steps: per-batch Newton iterations of the Laplace update (binary targets)."""

    prior_precision: float = 1.0
    a0: float = 1.0
    b0: float = 1.0
    newton_steps: int = 20


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


class OnlineBandit(Method):
    """Thompson-sampling contextual bandit that learns by acting (Agrawal & Goyal 2013; Chapelle & Li 2011)."""

    Params = OnlineBanditParams
    track = "online"
    protocol = "online"

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        return decision_task_problem(task)

    # ------------------------------------------------------------ posterior

    def _design(self, ctx: np.ndarray) -> np.ndarray:
        return np.column_stack([(np.asarray(ctx, float) - self.mean_) / self.sd_, np.ones(len(ctx))])

    def _update(self, k: int, Z: np.ndarray, y: np.ndarray) -> None:
        """Fold a batch of (design rows, outcomes) of action k into its posterior."""
        if self.task.target_kind == "real":
            self.xtx_[k] += Z.T @ Z
            self.xty_[k] += Z.T @ y
            self.yty_[k] += y @ y
            self.pulls_[k] += len(y)
            self._refresh_real(k)
            return
        m, P = self.coef_[k], self.precision_[k]
        w = m.copy()
        for _ in range(self.params.newton_steps):
            p = _sigmoid(Z @ w)
            step = np.linalg.solve(P + (Z * (p * (1 - p))[:, None]).T @ Z, P @ (w - m) + Z.T @ (p - y))
            w -= step
            if np.max(np.abs(step)) < 1e-8:
                break
        p = _sigmoid(Z @ w)
        self.precision_[k] = P + (Z * (p * (1 - p))[:, None]).T @ Z
        self.coef_[k] = w
        self.cov_[k] = np.linalg.inv(self.precision_[k])
        self.pulls_[k] += len(y)

    def _refresh_real(self, k: int) -> None:
        prm = self.params
        precision = self.xtx_[k] + prm.prior_precision * np.eye(len(self.xty_[k]))
        mu = np.linalg.solve(precision, self.xty_[k])
        b = prm.b0 + 0.5 * max(self.yty_[k] - mu @ precision @ mu, 0.0)
        self.noise_var_[k] = b / (prm.a0 + 0.5 * self.pulls_[k])
        self.coef_[k] = mu
        self.cov_[k] = self.noise_var_[k] * np.linalg.inv(precision)

    def _init_posterior(self, first_ctx: np.ndarray) -> None:
        K, p = len(self.task.action_values), len(self.task.context) + 1
        self.mean_ = first_ctx.mean(axis=0)
        sd = first_ctx.std(axis=0)
        self.sd_ = np.where(sd > 1e-12, sd, 1.0)
        self.coef_, self.cov_ = np.zeros((K, p)), np.zeros((K, p, p))
        self.pulls_ = np.zeros(K, dtype=np.int64)
        if self.task.target_kind == "real":
            self.xtx_, self.xty_, self.yty_ = np.zeros((K, p, p)), np.zeros((K, p)), np.zeros(K)
            self.noise_var_ = np.zeros(K)
            for k in range(K):
                self._refresh_real(k)
        else:
            self.precision_ = np.repeat(self.params.prior_precision * np.eye(p)[None], K, axis=0)
            self.cov_[:] = np.linalg.inv(self.precision_)

    # ------------------------------------------------------------ protocol

    def interact(self, env: Any, budget: int) -> "OnlineBandit":
        """Thompson sampling for budget // env.num_envs vector steps on an already-seeded vector env.

        Calls `env.reset()` without a seed to get the first contexts (the harness's seed
        stream continues), then acts on every sub-env each step (same-step autoreset).
        """
        rng = np.random.default_rng(self.seed)
        values = np.asarray(self.task.action_values, float)
        K, N = len(values), int(env.num_envs)
        ctx, _ = env.reset()
        ctx = np.asarray(ctx, float)
        self._init_posterior(ctx)
        binary = self.task.target_kind == "binary"
        for _ in range(int(budget) // N):
            Z = self._design(ctx)
            chol = np.linalg.cholesky(self.cov_ + 1e-12 * np.eye(Z.shape[1]))
            w = self.coef_[None] + np.einsum("kpq,nkq->nkp", chol, rng.standard_normal((N, K, Z.shape[1])))
            eta = np.einsum("np,nkp->nk", Z, w)
            outcome = _sigmoid(eta) if binary else eta
            u = self.task.reward(outcome.ravel(), np.tile(np.arange(K), N)).reshape(N, K)
            arm = np.argmax(u, axis=1)
            ctx_next, _, _, _, info = env.step(arm)
            y = np.asarray(info["outcome"], float)
            for k in np.unique(arm):
                rows = arm == k
                self._update(int(k), Z[rows], y[rows])
            ctx = np.asarray(ctx_next, float)
        self.steps_ = (int(budget) // N) * N
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Posterior mean outcome (P(Y = 1) for binary targets) under each row's action (nearest grid value)."""
        self.check_fitted()
        X = np.asarray(X, float)
        names = list(self.task.feature_names)
        arm = nearest_action(X[:, names.index(self.task.action)], np.asarray(self.task.action_values, float))
        Z = self._design(X[:, [names.index(c) for c in self.task.context]])
        eta = np.einsum("ij,ij->i", Z, self.coef_[arm])
        if self.task.target_kind == "real":
            return eta
        var = np.einsum("ij,ijk,ik->i", Z, self.cov_[arm], Z)
        return _sigmoid(eta / np.sqrt(1 + np.pi * var / 8))
