"""Exact ground truth from an SCM: Gaussian moments, discrete enumeration, E[Y | do(...)].

Used to publish the true answers (causal reference, interventional means) wherever
the model class allows exact computation; envs fall back to documented
large-sample estimates only when it does not.
"""

from __future__ import annotations

import itertools
from typing import Callable, Sequence

import networkx as nx
import numpy as np

from ..errors import SCMError
from .interventions import Intervention
from .model import SCM


def linear_gaussian_moments(scm: SCM) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, mean, covariance) of the joint Gaussian of a linear-Gaussian SCM."""
    if not scm.is_linear_gaussian:
        raise SCMError("exact Gaussian moments need a linear-Gaussian SCM")
    names = scm.order
    idx = {n: i for i, n in enumerate(names)}
    p = len(names)
    B = np.zeros((p, p))
    b = np.zeros(p)
    d = np.zeros(p)
    for n in names:
        intercept, weights, std = scm.mechanism(n).linear_form()  # type: ignore[misc]
        b[idx[n]], d[idx[n]] = intercept, std
        for parent, w in weights.items():
            B[idx[n], idx[parent]] += w
    A = np.linalg.inv(np.eye(p) - B)  # X = A (b + D e)
    return names, A @ b, (A * d**2) @ A.T


def _relevant(scm: SCM, target: str) -> list[str]:
    keep = nx.ancestors(scm.graph, target) | {target}
    return [n for n in scm.order if n in keep]


def discrete_joint(scm: SCM, variables: Sequence[str] | None = None,
                   max_states: int = 2**22) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Enumerate the joint law of an ancestrally closed set of discrete variables: (names, states, probs)."""
    names = tuple(variables) if variables is not None else scm.order
    cards = []
    for n in names:
        card = scm[n].cardinality
        if card is None:
            raise SCMError(f"variable {n!r} is real-valued; exact enumeration needs discrete variables")
        cards.append(card)
    if int(np.prod(cards, dtype=float)) > max_states:
        raise SCMError(f"joint state space {int(np.prod(cards, dtype=float))} is too large to enumerate")
    states = (np.array(list(itertools.product(*[range(c) for c in cards])), dtype=float) if names
              else np.zeros((1, 0)))
    values = {n: states[:, j] for j, n in enumerate(names)}
    probs = np.ones(len(states))
    for n in names:
        missing = [p for p in scm.parents(n) if p not in values]
        if missing:
            raise SCMError(f"enumeration set is not ancestrally closed: {n!r} needs {missing}")
        probs *= np.broadcast_to(scm.mechanism(n).pmf(values[n], values), probs.shape)
    return names, states, probs


def linear_means(scm: SCM, names: Sequence[str]) -> dict[str, float]:
    """E[X] for an ancestrally closed set whose mechanisms all have linear means (any noise law)."""
    means: dict[str, float] = {}
    for n in names:
        form = scm.mechanism(n).mean_form()
        if form is None:
            raise SCMError(f"variable {n!r} ({scm.mechanism(n).type}) has no linear mean; no exact expectation")
        intercept, weights = form
        means[n] = intercept + sum(w * means[p] for p, w in weights.items())
    return means


def expectation(scm: SCM, target: str, do: Intervention | None = None) -> float:
    """Exact E[target] (under `do`): by enumeration when the ancestors are discrete, else by
    propagating means through mechanisms that are linear in mean (linear, roots, Bernoulli...)."""
    model = scm.do(do) if do else scm
    relevant = _relevant(model, target)
    if all(model[n].kind != "real" for n in relevant):
        names, states, probs = discrete_joint(model, relevant)
        return float(probs @ states[:, names.index(target)])
    return linear_means(model, relevant)[target]


def interventional_mean_fn(scm: SCM, target: str, inputs: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    """x -> E[target | do(inputs = x)], exact, for an (n, len(inputs)) array x.

    Linear-Gaussian: affine in x (evaluated at 0 and unit vectors). Discrete:
    a lookup table over all input configurations.
    """
    inputs = tuple(inputs)
    model = scm
    relevant = _relevant(model.do({i: 0.0 for i in inputs}), target) if inputs else _relevant(model, target)
    discrete = all(model[n].kind != "real" for n in relevant) and all(model[i].kind != "real" for i in inputs)
    if discrete:
        cards = [int(model[i].cardinality) for i in inputs]
        table = np.empty(cards if cards else ())
        for config in itertools.product(*[range(c) for c in cards]):
            table[config] = expectation(model, target, dict(zip(inputs, map(float, config))))

        def lookup(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x)
            if not inputs:
                return np.full(len(x), float(table))
            return table[tuple(x[:, j].astype(np.intp) for j in range(len(inputs)))]

        return lookup
    base = expectation(model, target, {i: 0.0 for i in inputs})
    slopes = np.array([expectation(model, target, {i: float(i == j) for i in inputs}) - base for j in inputs])

    def affine(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return base + (x @ slopes if inputs else np.zeros(len(x)))

    return affine


def backdoor_free(scm: SCM, inputs: Sequence[str], target: str) -> bool:
    """True if E[target | inputs] = E[target | do(inputs)]: no back-door path (do-calculus rule 2)."""
    g = nx.DiGraph(scm.graph)
    g.remove_edges_from([(c, child) for c in inputs for child in list(g.successors(c))])
    if not inputs:
        return True
    fn = getattr(nx, "is_d_separator", None) or getattr(nx, "d_separated")
    return bool(fn(g, set(inputs), {target}, set()))


def mixture_conditional_mean_fn(scms: Sequence[SCM], target: str, given: Sequence[str]
                                ) -> Callable[[np.ndarray], np.ndarray]:
    """x -> E[target | given = x] under the uniform mixture of `scms` (the training domains).

    Exact for all-discrete ancestral sets (enumeration) and for linear-Gaussian SCMs
    (Gaussian conditioning with posterior domain weights); raises SCMError otherwise.
    """
    given = tuple(given)
    first = scms[0]
    keep = set(given) | {target}
    closed = [n for n in first.order if n in (set().union(*(nx.ancestors(s.graph, v) for s in scms for v in keep)) | keep)]
    if all(s[n].kind != "real" for s in scms for n in closed):
        cards = [int(first[v].cardinality) for v in given]
        size = int(np.prod(cards)) if given else 1
        mass, moment = np.zeros(size), np.zeros(size)
        for s in scms:
            names, states, probs = discrete_joint(s, closed)
            cols = [names.index(v) for v in given]
            flat = (np.ravel_multi_index(tuple(states[:, c].astype(np.intp) for c in cols), cards) if given
                    else np.zeros(len(states), np.intp))
            mass += np.bincount(flat, probs, minlength=size)
            moment += np.bincount(flat, probs * states[:, names.index(target)], minlength=size)
        table = np.divide(moment, mass, out=np.full(size, np.nan), where=mass > 0)

        def lookup(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x)
            if not given:
                return np.full(len(x), table[0])
            return table[np.ravel_multi_index(tuple(x[:, j].astype(np.intp) for j in range(len(given))), cards)]

        return lookup
    if not all(s.is_linear_gaussian for s in scms):
        raise SCMError("exact E[Y | X] needs discrete or linear-Gaussian models")
    parts = []
    for s in scms:
        names, mean, cov = linear_gaussian_moments(s)
        t, g = names.index(target), [names.index(v) for v in given]
        S = cov[np.ix_(g, g)]
        coef = np.linalg.solve(S, cov[g, t]) if g else np.zeros(0)
        parts.append((mean[t], mean[g], coef, S))

    def gaussian(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        preds, logw = [], []
        for mt, mg, coef, S in parts:
            diff = x - mg
            preds.append(mt + diff @ coef)
            if given:
                sol = np.linalg.solve(S, diff.T).T
                logw.append(-0.5 * np.sum(diff * sol, axis=1) - 0.5 * np.linalg.slogdet(S)[1])
            else:
                logw.append(np.zeros(len(x)))
        W = np.array(logw)
        W = np.exp(W - W.max(axis=0))
        W /= W.sum(axis=0)
        return np.sum(W * np.array(preds), axis=0)

    return gaussian


def mixture_mean_fn(fns: Sequence[Callable[[np.ndarray], np.ndarray]], weights: Sequence[float] | None = None
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """Average of per-domain functions (interventional means mix with the domain weights)."""
    w = np.full(len(fns), 1 / len(fns)) if weights is None else np.asarray(weights, dtype=float)
    if len(fns) == 1:
        return fns[0]
    return lambda x: sum(wi * f(x) for wi, f in zip(w, fns))


