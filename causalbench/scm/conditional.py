"""Exact conditional means E[target | observed = x] for weighted mixtures of SCMs.

The model class is *conditional linear-Gaussian* (CLG): every discrete variable has only
discrete parents, and every real variable is linear-Gaussian in its parents (discrete
parents enter as numeric codes). All-discrete and all-linear-Gaussian SCMs are special
cases. Given a discrete configuration the real variables are jointly Gaussian, so

    E[Y | x] = sum_c w_c(x) E[Y | x_real, c],  w_c(x) ∝ p_c 1[c agrees with x_discrete] N(x_real; mu_c, S),

summed over the discrete configurations c of every mixture component (a training domain
is a component with weight 1/K). This is what the scorer's Bayes predictor of each test
distribution, the training Bayes predictor and the decision values are computed with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import networkx as nx
import numpy as np

from ..errors import SCMError
from .exact import discrete_joint
from .model import SCM

MAX_STATES = 2**20


@dataclass(frozen=True)
class _Block:
    """One component's discrete configurations and the Gaussian law of its real variables."""

    log_p: np.ndarray          # (S,) log(weight * P(c))
    keys: np.ndarray           # (S,) flat index of the given discrete variables' values
    y_const: np.ndarray        # (S,) E[Y | c] (discrete Y) or E[Y | c] without real evidence (real Y)
    mean_given: np.ndarray     # (S, g) means of the given real variables
    gain: np.ndarray           # (g,) Cov(Y, x_g) Cov(x_g)^-1 (zeros for discrete Y)
    chol: np.ndarray | None    # Cholesky factor of Cov(x_g), or None when no real variable is given
    log_det: float


def _closure(scm: SCM, names: Sequence[str]) -> list[str]:
    keep = set(names).union(*(nx.ancestors(scm.graph, v) for v in names))
    return [v for v in scm.order if v in keep]


def _block(scm: SCM, weight: float, target: str, given: Sequence[str], cards: Sequence[int]) -> _Block:
    relevant = _closure(scm, [*given, target])
    disc = [v for v in relevant if scm[v].kind != "real"]
    real = [v for v in relevant if scm[v].kind == "real"]
    for v in disc:
        bad = [p for p in scm.parents(v) if scm[p].kind == "real"]
        if bad:
            raise SCMError(f"no exact E[Y | x]: discrete {v!r} has real parent(s) {bad} (not conditional linear-Gaussian)")
    forms = {}
    for v in real:
        form = scm.mechanism(v).linear_form()
        if form is None:
            raise SCMError(f"no exact E[Y | x]: {v!r} ({scm.mechanism(v).type}) is not linear-Gaussian")
        forms[v] = form
    _, states, probs = discrete_joint(scm, disc, max_states=MAX_STATES)
    live = probs > 0
    states, probs = states[live], probs[live]
    d_index, r_index = {v: j for j, v in enumerate(disc)}, {v: j for j, v in enumerate(real)}
    # Real block: X_R = A (b + B_RD d + sd * e), A = (I - B_RR)^-1.
    p = len(real)
    B_rr, B_rd = np.zeros((p, p)), np.zeros((p, len(disc)))
    b, sd = np.zeros(p), np.zeros(p)
    for v, (intercept, weights, std) in forms.items():
        i = r_index[v]
        b[i], sd[i] = intercept, std
        for parent, w in weights.items():
            if parent in r_index:
                B_rr[i, r_index[parent]] += w
            else:
                B_rd[i, d_index[parent]] += w
    A = np.linalg.inv(np.eye(p) - B_rr) if p else np.zeros((0, 0))
    means = (b[None, :] + states @ B_rd.T) @ A.T if p else np.zeros((len(states), 0))
    cov = (A * sd**2) @ A.T
    g_disc = [d_index[v] for v in given if v in d_index]
    g_real = [r_index[v] for v in given if v in r_index]
    keys = (np.ravel_multi_index(tuple(states[:, j].astype(np.intp) for j in g_disc),
                                 [c for v, c in zip(given, cards) if v in d_index])
            if g_disc else np.zeros(len(states), np.intp))
    log_p = np.log(weight * probs)
    if target in d_index:
        y_const, gain = states[:, d_index[target]], np.zeros(len(g_real))
    else:
        t = r_index[target]
        S = cov[np.ix_(g_real, g_real)]
        gain = np.linalg.solve(S, cov[g_real, t]) if g_real else np.zeros(0)
        y_const = means[:, t]
    if g_real:
        S = cov[np.ix_(g_real, g_real)]
        try:
            chol = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            raise SCMError("no exact E[Y | x]: the observed real variables have a singular covariance") from None
        return _Block(log_p, keys, y_const, means[:, g_real], gain, chol, float(2 * np.log(np.diag(chol)).sum()))
    return _Block(log_p, keys, y_const, np.zeros((len(states), 0)), gain, None, 0.0)


def conditional_mean_fn(components: Sequence[tuple[float, SCM]], target: str, given: Sequence[str]
                        ) -> Callable[[np.ndarray], np.ndarray]:
    """x -> E[target | given = x] under the mixture sum_k w_k P_k, exactly (CLG models).

    `x` is an (n, len(given)) array; rows that have probability zero under every component
    get NaN. Raises SCMError when a component is not conditional linear-Gaussian.
    """
    given = tuple(given)
    first = components[0][1]
    cards = [int(first[v].cardinality or 0) for v in given]
    total = float(sum(w for w, _ in components))
    blocks = [_block(scm, w / total, target, given, cards) for w, scm in components]
    disc_cols = [j for j, c in enumerate(cards) if c]
    real_cols = [j for j, c in enumerate(cards) if not c]

    def row_keys(x: np.ndarray) -> np.ndarray:
        if not disc_cols:
            return np.zeros(len(x), np.intp)
        codes = np.rint(x[:, disc_cols]).astype(np.intp)
        ok = np.all((codes >= 0) & (codes < np.array([cards[j] for j in disc_cols])), axis=1)
        codes[~ok] = 0
        keys = np.ravel_multi_index(tuple(codes.T), [cards[j] for j in disc_cols])
        keys[~ok] = -1
        return keys

    if not real_cols:  # a lookup table over the discrete configurations of the given variables
        size = int(np.prod([cards[j] for j in disc_cols])) if disc_cols else 1
        mass, moment = np.zeros(size), np.zeros(size)
        for blk in blocks:
            p = np.exp(blk.log_p)
            mass += np.bincount(blk.keys, p, minlength=size)
            moment += np.bincount(blk.keys, p * blk.y_const, minlength=size)
        table = np.divide(moment, mass, out=np.full(size, np.nan), where=mass > 0)

        def lookup(x: np.ndarray) -> np.ndarray:
            keys = row_keys(np.asarray(x, dtype=float))
            return np.where(keys >= 0, table[np.maximum(keys, 0)], np.nan)

        return lookup

    def mixture(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        keys, xr = row_keys(x), x[:, real_cols]
        out = np.full(len(x), np.nan)
        for key in np.unique(keys[keys >= 0]):
            rows = np.flatnonzero(keys == key)
            logs, vals = [], []
            for blk in blocks:
                pick = blk.keys == key
                if not pick.any():
                    continue
                diff = xr[rows, None, :] - blk.mean_given[None, pick, :]               # (r, s, g)
                z = np.linalg.solve(blk.chol, diff.reshape(-1, diff.shape[-1]).T).T.reshape(diff.shape)
                logs.append(blk.log_p[pick][None, :] - 0.5 * np.sum(z * z, axis=-1) - 0.5 * blk.log_det)
                vals.append(blk.y_const[pick][None, :] + diff @ blk.gain)
            if logs:
                L, V = np.concatenate(logs, axis=1), np.concatenate(vals, axis=1)
                W = np.exp(L - L.max(axis=1, keepdims=True))
                out[rows] = np.sum(W * V, axis=1) / W.sum(axis=1)
        return out

    return mixture


def moments(components: Sequence[tuple[float, SCM]], target: str) -> tuple[float, float]:
    """(E[target], Var[target]) under the mixture, exactly (CLG models); SCMError otherwise."""
    total = float(sum(w for w, _ in components))
    mean = second = 0.0
    for w, scm in components:
        blk = _block(scm, w / total, target, (), [])
        p = np.exp(blk.log_p)
        if scm[target].kind == "real":
            _, var = _target_variance(scm, target)
        else:
            var = 0.0
        mean += float(p @ blk.y_const)
        second += float(p @ (blk.y_const**2 + var))
    return mean, max(second - mean**2, 0.0)


def _target_variance(scm: SCM, target: str) -> tuple[list[str], float]:
    """Var(target | discrete configuration) of a CLG model (the same for every configuration)."""
    relevant = _closure(scm, [target])
    real = [v for v in relevant if scm[v].kind == "real"]
    idx = {v: i for i, v in enumerate(real)}
    B, sd = np.zeros((len(real), len(real))), np.zeros(len(real))
    for v in real:
        form = scm.mechanism(v).linear_form()
        if form is None:
            raise SCMError(f"no exact moments: {v!r} is not linear-Gaussian")
        sd[idx[v]] = form[2]
        for parent, w in form[1].items():
            if parent in idx:
                B[idx[v], idx[parent]] += w
    A = np.linalg.inv(np.eye(len(real)) - B)
    return real, float(((A * sd**2) @ A.T)[idx[target], idx[target]])
