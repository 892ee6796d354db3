"""RandomSCM's exact ground truth: Gaussian posteriors of y summed over the binary hidden configurations.

Given the observed variables x and a configuration c of the binary hidden confounders, y has
the Gaussian prior N(m0(x_causes, c), s0^2) from its own mechanism, and every child j of y is
x_j = a_j y + u_j(other parents) + N(0, s_j^2) (RandomSCM builds children of y with y in a
linear skip term). With A = 1/s0^2 + sum a_j^2/s_j^2 and B = m0/s0^2 + sum a_j r_j/s_j^2
(r_j = x_j - u_j), E[y | x, c] = B / A and the likelihood of x given c is closed form, so

    E[y | x] = sum_{component, c} w(component) P(c) p(x | c) E[y | x, c] / (same without E[y | x, c]).

Every mechanism is evaluated through its own `apply` (noise set to 0 gives the conditional
mean), and a_j is read off as mean(y = 1) - mean(y = 0), so the construction is not duplicated.
"""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import Callable

import numpy as np

from causalbench.env.truth import GroundTruth
from causalbench.scm import SCM
from causalbench.scm.mechanisms import Scratch

LOG_2PI = float(np.log(2 * np.pi))


def _mean(scm: SCM, name: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """E[name | parents = values] (the mechanism applied to zero noise)."""
    out = np.zeros(n)
    scm.mechanism(name).apply(out, values, Scratch(n))
    return out


def _std(scm: SCM, name: str) -> float:
    mech = scm.mechanism(name)
    return float(getattr(mech, "std"))


class RandomSCMTruth(GroundTruth):
    """Exact Bayes predictors and causal reference of `RandomSCM` (see the module docstring)."""

    @cached_property
    def _hidden(self) -> tuple[str, ...]:
        return self.env.scm.hidden

    def _configs(self, scm: SCM) -> tuple[np.ndarray, np.ndarray]:
        """(configurations (C, H) of the hidden confounders, their log-probabilities) under `scm`."""
        configs = np.array(list(itertools.product((0.0, 1.0), repeat=len(self._hidden))))
        p = np.array([scm.mechanism(h).p for h in self._hidden])  # type: ignore[attr-defined]
        return configs, (configs * np.log(p) + (1 - configs) * np.log1p(-p)).sum(axis=1)

    def _posterior(self, scm: SCM, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log p(x, c), E[y | x, c]) for every row and hidden configuration: two (n, C) arrays."""
        env, n = self.env, len(V)
        y = env.target
        observed = {v: V[:, j] for j, v in enumerate(env.variables)}
        children = [v for v in env.variables if y in scm.parents(v)]
        descendants_free = [v for v in env.variables if v not in children]
        configs, log_pc = self._configs(scm)
        s0 = _std(scm, y)
        log_p, post = np.empty((n, len(configs))), np.empty((n, len(configs)))
        for k, c in enumerate(configs):
            values = {**observed, **{h: np.full(n, c[i]) for i, h in enumerate(self._hidden)}}
            m0 = _mean(scm, y, values, n)
            A, B, C = np.full(n, 1 / s0**2), m0 / s0**2, m0**2 / s0**2
            ll = -0.5 * np.log(s0**2) * np.ones(n)
            for v in children:
                s = _std(scm, v)
                u = _mean(scm, v, {**values, y: np.zeros(n)}, n)
                a = _mean(scm, v, {**values, y: np.ones(n)}, n) - u
                r = observed[v] - u
                A, B, C = A + a**2 / s**2, B + a * r / s**2, C + r**2 / s**2
                ll -= np.log(s)
            ll += -0.5 * (C - B**2 / A) - 0.5 * np.log(A)
            for v in descendants_free:
                if scm.parents(v):
                    s = _std(scm, v)
                    ll += -0.5 * ((observed[v] - _mean(scm, v, values, n)) / s) ** 2 - np.log(s)
                else:
                    mech = scm.mechanism(v)
                    ll += -0.5 * ((observed[v] - mech.mean) / mech.std) ** 2 - np.log(mech.std)  # type: ignore
            log_p[:, k], post[:, k] = log_pc[k] + ll, B / A
        return log_p, post

    def bayes_fn(self, test_set: str) -> Callable[[np.ndarray], np.ndarray]:
        components = self.components(test_set)

        def bayes(V: np.ndarray) -> np.ndarray:
            parts = [self._posterior(scm, np.asarray(V, dtype=float)) for _, scm in components]
            L = np.concatenate([lp + np.log(w) for (w, _), (lp, _) in zip(components, parts)], axis=1)
            M = np.concatenate([m for _, m in parts], axis=1)
            W = np.exp(L - L.max(axis=1, keepdims=True))
            return np.sum(W * M, axis=1) / W.sum(axis=1)

        return bayes

    @cached_property
    def _reference_fn(self) -> Callable[[np.ndarray], np.ndarray]:
        """E[y | do(causes = x)] = f(x) + E_train[g(h)]: the mean of y's mechanism over the training configurations."""
        env = self.env
        inputs = self.reference_inputs
        weighted = []
        for scm in env.domain_scms:
            configs, log_pc = self._configs(scm)
            weighted.append((configs, np.exp(log_pc) / len(env.domain_scms)))

        def reference(C: np.ndarray) -> np.ndarray:
            n = len(C)
            values = {v: C[:, j] for j, v in enumerate(inputs)}
            out = np.zeros(n)
            for configs, probs in weighted:
                for c, p in zip(configs, probs):
                    hidden = {h: np.full(n, c[i]) for i, h in enumerate(self._hidden)}
                    out += p * _mean(env.scm, env.target, {**values, **hidden}, n)
            return out

        return reference
