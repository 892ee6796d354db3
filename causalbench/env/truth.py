"""Ground truth from the SCM: the references, the true effects and the decision values.

Every answer is exact where the model class allows (conditional linear-Gaussian mixtures
by `scm.conditional`, discrete networks by enumeration, linear means) and otherwise a
documented large-sample estimate; an env with a closed form of its own subclasses
`GroundTruth` and sets `Truth = ...` on its class. Rows `V` hold the env's observed
non-target variables (`env.variables`), i.e. the latent rows for rendered envs.

References, named for exactly what they compute:
- `causal_reference(V)` = E[Y | do(X = x)] for all observed features X, hidden variables
  integrated out at the training distribution (the structural regression; it depends only
  on the observed ancestors of Y);
- `bayes(V, test_set)` = E_test[Y | X = x], the Bayes predictor of one test distribution
  (`"id"`: the training mixture);
- `null` = the training mean (real target) or prior P(Y = 1) (binary target).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Callable, Sequence

import networkx as nx
import numpy as np

from ..errors import SCMError
from ..scm import SCM, exact
from ..scm.conditional import conditional_mean_fn, moments
from ..seeding import derive
from .ids import ID_TEST_SET

Fn = Callable[[np.ndarray], np.ndarray]
MC_UNITS = 200_000          # units for Monte-Carlo effects where no exact form exists
REFERENCE_MC_UNITS = 256    # Monte-Carlo units per row for the causal reference where no exact form exists


class GroundTruth:
    """The exact answers of one environment (built once per env instance, cached)."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self._bayes: dict[str, Fn] = {}

    # ---------------------------------------------------------- distributions

    def components(self, test_set: str = ID_TEST_SET) -> list[tuple[float, SCM]]:
        """The test distribution as weighted SCMs: the training domains (equal weights) or one shifted SCM."""
        env = self.env
        if test_set == ID_TEST_SET:
            return [(1.0 / len(env.domains), s) for s in env.domain_scms]
        return [(1.0, env.test_scm(test_set))]

    @cached_property
    def _moments(self) -> tuple[float, float]:
        try:
            return moments(self.components(), self.env.target)
        except SCMError:
            y = self.env.pilot[self.env.target]
            return float(y.mean()), float(y.var())

    @property
    def null(self) -> float:
        """Training mean (real target) or prior P(Y = 1) (binary target): the null reference's output."""
        return self._moments[0]

    @property
    def target_scale(self) -> float:
        """sd(Y) under the training distribution: the unit of effect errors (Var(Y) of risks and reliance)."""
        return float(np.sqrt(self._moments[1]))

    # ---------------------------------------------------------- references

    def bayes(self, V: np.ndarray, test_set: str = ID_TEST_SET) -> np.ndarray:
        """E_test[Y | observed = V] (NaN where the rows are impossible under that distribution)."""
        if test_set not in self._bayes:
            self._bayes[test_set] = self.bayes_fn(test_set)
        return self._bayes[test_set](np.asarray(V, dtype=float))

    def bayes_fn(self, test_set: str) -> Fn:
        """The Bayes predictor of a test set as a function of V; override for closed forms."""
        try:
            return conditional_mean_fn(self.components(test_set), self.env.target, self.env.variables)
        except SCMError as err:
            raise SCMError(f"{self.env.id}: no exact Bayes predictor for {test_set!r} ({err}); "
                           "the env must provide one (GroundTruth.bayes_fn)") from None

    @cached_property
    def reference_inputs(self) -> tuple[str, ...]:
        """The observed ancestors of the target: the only features the causal reference depends on."""
        ancestors = nx.ancestors(self.env.scm.graph, self.env.target)
        return tuple(v for v in self.env.variables if v in ancestors)

    def causal_reference(self, V: np.ndarray) -> np.ndarray:
        """E[Y | do(X = x)] at rows V, hidden variables integrated out at the training distribution."""
        V = np.asarray(V, dtype=float)
        cols = [self.env.variables.index(v) for v in self.reference_inputs]
        return self._reference_fn(V[:, cols])

    @cached_property
    def _reference_fn(self) -> Fn:
        inputs, target = self.reference_inputs, self.env.target
        try:
            fns = [exact.interventional_mean_fn(s, target, inputs) for s in self.env.domain_scms]
        except SCMError:
            return self._mc_reference
        return exact.mixture_mean_fn(fns)

    def _mc_reference(self, C: np.ndarray) -> np.ndarray:
        """Monte-Carlo E[Y | do(inputs = c)] per row (a documented fallback; envs override with closed forms)."""
        env, m = self.env, REFERENCE_MC_UNITS
        out = np.empty(len(C))
        chunk = max(1, 2_000_000 // (m * len(env.domains)))
        for start in range(0, len(C), chunk):
            block = C[start:start + chunk]
            do = {c: np.repeat(block[:, j], m) for j, c in enumerate(self.reference_inputs)}
            means = [s.sample(len(block) * m, derive(0, env.stream, "reference-mc", str(start)), do=do)[env.target]
                     .reshape(len(block), m).mean(axis=1) for s in env.domain_scms]
            out[start:start + len(block)] = np.mean(means, axis=0)
        return out

    # ---------------------------------------------------------- effects

    def effect_grid(self, variable: str) -> tuple[float, ...]:
        """Values a of do(variable = a) for effect errors: every state, or 5 training quantiles (2 decimals)."""
        var = self.env.scm[variable]
        if var.cardinality:
            return tuple(float(k) for k in range(var.cardinality))
        qs = np.quantile(self.env.pilot[variable], [0.1, 0.3, 0.5, 0.7, 0.9])
        return tuple(float(np.round(q, 2)) + 0.0 for q in qs)

    def effect_baseline(self, variable: str) -> float:
        """a0, the value every contrast E[Y | do(X = a)] - E[Y | do(X = a0)] is taken against."""
        grid = self.effect_grid(variable)
        return grid[0] if self.env.scm[variable].cardinality else grid[len(grid) // 2]

    def true_effect(self, variable: str, values: Sequence[float]) -> np.ndarray | None:
        """Exact E[Y | do(variable = a)] for each a (training mixture), or None when no exact form exists."""
        try:
            return np.array([np.mean([exact.expectation(s, self.env.target, {variable: float(a)})
                                      for s in self.env.domain_scms]) for a in values])
        except SCMError:
            return None

    def estimate_effect(self, variable: str, values: Sequence[float], n: int = MC_UNITS
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(Monte-Carlo E[Y | do(variable = a)], standard errors), paired units across the grid."""
        units = self.env.mixture(n, 0, "effect-mc", paired=True)
        ys = [units.sample({variable: a})[self.env.target] for a in values]
        return np.array([y.mean() for y in ys]), np.array([y.std() / np.sqrt(len(y)) for y in ys])

    # ---------------------------------------------------------- decisions

    def decision_values(self, ctx: np.ndarray, test_set: str = ID_TEST_SET) -> np.ndarray:
        """E_test[utility | do(action = a), context] per context row and action value: an (n, K) array.

        Exact (the utility is affine in the outcome, so it is the utility of the conditional mean).
        """
        env = self.env
        if env.action is None:
            raise SCMError(f"{env.id} has no action variable")
        ctx = np.asarray(ctx, dtype=float)
        cols = []
        for a in env.action_values:
            key = f"decision:{test_set}:{a!r}"
            if key not in self._bayes:
                comps = [(w, s.do({env.action: a})) for w, s in self.components(test_set)]
                self._bayes[key] = conditional_mean_fn(comps, env.target, env.context_variables)
            cols.append(env.utility(self._bayes[key](ctx), np.full(len(ctx), a)))
        return np.column_stack(cols)
