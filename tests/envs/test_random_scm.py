"""RandomSCM-v1: every generated instance is valid, deterministic, has exact ground truth and confuses OLS."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import causalbench as cb
from causalbench.errors import CausalBenchError
from causalbench.scm import MLP
from causalbench.scm.mechanisms import Scratch
from causalbench.envs.random_scm import MAX_HIDDEN, NONLINEARITIES, TARGET

REQUIRED_KINDS = {"confounder", "causal_covariate"}


def d_separated(g: nx.DiGraph, x: str, y: str, given: set[str]) -> bool:
    fn = getattr(nx, "is_d_separator", None) or getattr(nx, "d_separated")
    return bool(fn(g, {x}, {y}, given))


def ols_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (intercept last) and their standard errors."""
    Z = np.column_stack([X, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    resid = y - Z @ coef
    se = np.sqrt(np.diag(np.linalg.inv(Z.T @ Z)) * (resid @ resid) / (len(y) - Z.shape[1]))
    return coef, se


def ols_predictor(env: cb.CausalEnv, n: int = 20_000):
    d = env.dataset("observational", n=n, seed=0)
    coef, _ = ols_fit(d.X, d.y)
    return lambda X: np.column_stack([X, np.ones(len(X))]) @ coef


# ---------------------------------------------------------------- validity over the option space


@settings(max_examples=40)
@given(n_nodes=st.integers(2, 24), n_hidden=st.integers(1, 4), density=st.floats(0.0, 1.0),
       nonlinearity=st.sampled_from(NONLINEARITIES), graph_seed=st.integers(0, 10**6))
def test_every_instance_is_valid(n_nodes: int, n_hidden: int, density: float, nonlinearity: str,
                                 graph_seed: int) -> None:
    env = cb.make("RandomSCM-v1", n_nodes=n_nodes, n_hidden=n_hidden, density=density,
                  nonlinearity=nonlinearity, graph_seed=graph_seed)
    g, scm, y = env.scm.graph, env.scm, env.target
    assert len(env.variables) == n_nodes and len(scm.hidden) == n_hidden
    causal, spurious = set(env.causal_variables), set(env.spurious_variables)
    assert causal and spurious
    # No hidden node reaches a cause, and y enters each child linearly (what exact inference needs).
    assert not any(set(scm.hidden) & nx.ancestors(g, c) for c in causal)
    assert all(scm[h].kind == "binary" for h in scm.hidden)
    for child in g.successors(TARGET):
        values = {v: np.zeros(3) for v in scm.names}
        outs = []
        for yv in (0.0, 1.0, 2.0):
            out = np.zeros(3)
            scm.mechanism(child).apply(out, {**values, TARGET: np.full(3, yv)}, Scratch(3))
            outs.append(out[0])
        assert outs[2] - outs[1] == pytest.approx(outs[1] - outs[0], abs=1e-9), child
    # Link edges (from y or its hidden parents) end in spurious nodes.
    assert env.link_edges and set(env.link_edges) <= spurious
    # Shifts: >= 3 kinds (confounder, spurious link, causal covariate), >= 2 severities each, all sample.
    kinds = {s.kind for s in env.shifts}
    assert REQUIRED_KINDS <= kinds and kinds & {"spurious_break", "spurious_reversal"} and len(kinds) >= 3
    assert all(len(s.severities) >= 2 for s in env.shifts) and len(env.domains) >= 2
    for name in env.test_set_names():
        sample, _ = env.test_sample(name, seed=0, n=64)
        assert np.all(np.isfinite(sample.data))
    if nonlinearity != "linear":  # the target is additive in its causes and its confounders
        mech = scm.mechanism(y)
        assert isinstance(mech, MLP)
        hid = np.array([scm[p].hidden for p in mech.inputs])
        units_h = np.any(mech.W1[:, hid] != 0, axis=1)
        assert units_h.any() and (~units_h).any()
        assert not np.any(mech.W1[np.ix_(units_h, ~hid)])


def test_default_instance_and_recorded_options() -> None:
    env = cb.make("RandomSCM-v1")
    assert env.options == {"n_nodes": 8, "n_hidden": 2, "density": 0.3, "nonlinearity": "tanh", "graph_seed": 0}
    d = env.dataset("domains", n=100, seed=3)
    assert d.spec.options == env.options and d.X.shape == (100, 8) and set(np.unique(d.domain)) == {0, 1}
    assert set(d.feature_names) == set(env.variables) and not set(d.feature_names) & set(env.scm.hidden)
    assert env.target_kind == "real"


@pytest.mark.parametrize("options, match", [
    ({"n_nodes": 1}, "n_nodes"), ({"n_hidden": 0}, "n_hidden"), ({"density": 1.5}, "density"),
    ({"nonlinearity": "relu"}, "nonlinearity"), ({"graph_seed": -1}, "graph_seed"), ({"n_nodes": 8.0}, "n_nodes"),
    ({"n_hidden": MAX_HIDDEN + 1}, "n_hidden"), ({"colour": "red"}, "bad options"),
])
def test_bad_options_are_one_line_errors(options: dict, match: str) -> None:
    with pytest.raises(CausalBenchError, match=match) as info:
        cb.make("RandomSCM-v1", **options)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- determinism


def test_instances_are_pure_functions_of_the_options() -> None:
    a = cb.make("RandomSCM-v1", n_nodes=12, n_hidden=3, graph_seed=5)
    b = cb.make("RandomSCM-v1", n_nodes=12, n_hidden=3, graph_seed=5, density=0.3, nonlinearity="tanh")
    assert a.scm.hash == b.scm.hash and a.options == b.options
    assert a.dataset(n=500, seed=1).fingerprint == b.dataset(n=500, seed=1).fingerprint
    assert a.scm.hash != cb.make("RandomSCM-v1", n_nodes=12, n_hidden=3, graph_seed=6).scm.hash
    assert cb.make("RandomSCM-v1").scm.hash == cb.make("RandomSCM-v1").scm.hash
    # The nonlinearity changes the mechanisms, never the graph.
    graphs = [cb.make("RandomSCM-v1", n_nodes=12, n_hidden=3, graph_seed=5, nonlinearity=k).scm.graph
              for k in NONLINEARITIES]
    assert all(set(g.edges) == set(graphs[0].edges) for g in graphs)
    assert len({cb.make("RandomSCM-v1", nonlinearity=k).scm.hash for k in NONLINEARITIES}) == 3


# ---------------------------------------------------------------- ground truth


@pytest.mark.parametrize("nonlinearity, graph_seed", [("tanh", 0), ("mlp", 0), ("tanh", 7), ("mlp", 11)])
def test_causal_reference_matches_interventional_monte_carlo(nonlinearity: str, graph_seed: int) -> None:
    """E[y | do(X = x)] over the training mixture: averaged over 40k units per domain."""
    env = cb.make("RandomSCM-v1", nonlinearity=nonlinearity, graph_seed=graph_seed)
    rows = env.dataset("observational", n=4, seed=9).X
    m = 40_000
    pred = env.truth.causal_reference(rows)
    for i, row in enumerate(rows):
        do = {v: float(row[j]) for j, v in enumerate(env.variables)}
        ys = [s.sample(m, seed=100 + i, do=do)[env.target] for s in env.domain_scms]
        mc = np.mean([y.mean() for y in ys])
        se = np.sqrt(np.sum([y.var() / m for y in ys])) / len(ys)
        assert abs(pred[i] - mc) < 5 * se, (i, pred[i], mc, se)


@pytest.mark.parametrize("nonlinearity, n_hidden, graph_seed", [("linear", 2, 3), ("tanh", 3, 3), ("mlp", 2, 8)])
def test_bayes_predictor_is_the_conditional_mean(nonlinearity: str, n_hidden: int, graph_seed: int) -> None:
    """On 100k fresh rows of the training mixture and of two shifts: residuals y - Bayes(X) are calibrated (slope
    1 on Bayes) and unrelated to x and tanh(x) (5 standard errors)."""
    env = cb.make("RandomSCM-v1", nonlinearity=nonlinearity, n_hidden=n_hidden, graph_seed=graph_seed)
    for t in ("id", "confounder_shift@0.95", "spurious_reversal@1"):
        sample, _ = env.test_sample(t, 4, 100_000)
        X, y = sample.columns(env.variables), sample[env.target]
        b = env.truth.bayes(X, t)
        coef, se = ols_fit(np.column_stack([b, X, np.tanh(X)]), y)
        assert abs(coef[0] - 1) < 5 * se[0] and np.all(np.abs(coef[1:-1]) < 5 * se[1:-1]), (t, coef, se)


def test_linear_bayes_agrees_with_gaussian_mixture_algebra() -> None:
    """nonlinearity="linear": the family is conditional linear-Gaussian, so the generic engine also applies."""
    from causalbench.scm.conditional import conditional_mean_fn

    env = cb.make("RandomSCM-v1", nonlinearity="linear", graph_seed=2, n_hidden=3)
    X = env.dataset("observational", n=500, seed=1).X
    for t in ("id", "spurious_break@0.5", "causal_shift@2"):
        generic = conditional_mean_fn(env.truth.components(t), env.target, env.variables)
        assert np.allclose(env.truth.bayes(X, t), generic(X), atol=1e-9)


def test_linear_true_effects_are_exact() -> None:
    env = cb.make("RandomSCM-v1", nonlinearity="linear", graph_seed=2)
    for v in env.spurious_variables:
        eff = env.truth.true_effect(v, [-2.0, 0.0, 2.0])
        assert eff is not None and np.ptp(eff) < 1e-12  # a non-cause has no effect
    units = [s.units(50_000, seed=k) for k, s in enumerate(env.domain_scms)]
    for v in env.causal_variables:
        truth = env.truth.true_effect(v, [-1.0, 1.0])
        for a, t in zip([-1.0, 1.0], truth):
            ys = [u.sample({v: a})[env.target] for u in units]
            se = np.sqrt(np.sum([y.var() / len(y) for y in ys])) / 2
            assert abs(np.mean([y.mean() for y in ys]) - t) < 5 * se
    assert cb.make("RandomSCM-v1", nonlinearity="tanh").truth.true_effect(env.variables[0], [0.0]) is None


# ---------------------------------------------------------------- shifts and the confusion story


def test_shifts_do_what_they_say() -> None:
    env = cb.make("RandomSCM-v1", nonlinearity="linear", graph_seed=1)
    n, links = 100_000, list(env.link_edges)

    def link_covariances(sample) -> tuple[np.ndarray, np.ndarray]:
        """Cov(link child, y - reference) and its standard error: the information beyond the causes."""
        r = sample[env.target] - env.truth.causal_reference(sample.columns(env.variables))
        prod = (sample.columns(links) - sample.columns(links).mean(axis=0)) * (r - r.mean())[:, None]
        return prod.mean(axis=0), prod.std(axis=0) / np.sqrt(n)

    base, se0 = link_covariances(env.scm.sample(n, seed=5))
    assert np.all(np.abs(base) > 5 * se0)  # link children carry information beyond the causes
    broken, se1 = link_covariances(env.test_sample("spurious_break@1", seed=2, n=n)[0])
    assert np.all(np.abs(broken) < 5 * se1)  # ... and none once the links break
    # Every path from y or its confounders to an observed node crosses exactly one link edge, so
    # in the linear model reversing the links negates each covariance exactly.
    reversed_, se2 = link_covariances(env.test_sample("spurious_reversal@1", seed=2, n=n)[0])
    assert np.all(np.abs(reversed_ + base) < 5 * np.hypot(se0, se2))
    half, se3 = link_covariances(env.test_sample("spurious_reversal@0.5", seed=2, n=n)[0])
    assert np.all(np.abs(half + 0.5 * base) < 5 * np.hypot(0.5 * se0, se3))
    sample, _ = env.test_sample("causal_shift@2", seed=2, n=n)
    roots = [v for v in env.causal_variables if not env.scm.parents(v)]
    assert roots and all(abs(sample[v].mean() - 2.0) < 5 / np.sqrt(n) for v in roots)
    sample, _ = env.test_sample("confounder_shift@0.95", seed=2, n=n)
    assert all(abs(sample[h].mean() - 0.95) < 5 * np.sqrt(0.95 * 0.05 / n) for h in env.scm.hidden)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_ols_is_causally_confused_and_the_causal_reference_is_not(nonlinearity: str) -> None:
    env = cb.make("RandomSCM-v1", nonlinearity=nonlinearity)
    ref = cb.score(env.truth.causal_reference, env)
    assert ref.spurious_reliance == 0.0 and ref.causal_reliance == 1.0
    ols = cb.score(ols_predictor(env), env)
    assert ols.spurious_reliance > 0.4, ols.spurious_reliance
    assert ols.excess_risk_id < ref.excess_risk_id                      # in distribution the proxies help...
    assert ols.excess_risk["spurious_reversal@1"] > ref.excess_risk["spurious_reversal@1"] + 0.2  # ...then hurt
    assert ols.effect_error > ref.effect_error + 0.1
