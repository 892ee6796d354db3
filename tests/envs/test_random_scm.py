"""RandomSCM-v0: every generated instance is valid, deterministic, has exact ground truth and confuses OLS."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.hermite import hermgauss

import causalbench as cb
from causalbench.errors import CausalBenchError
from causalbench.scm import MLP, exact
from causalbench.envs.random_scm import NONLINEARITIES, derive_roles, gauss_tanh_mean, random_layout

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
    env = cb.make("RandomSCM-v0", n_nodes=n_nodes, n_hidden=n_hidden, density=density,
                  nonlinearity=nonlinearity, graph_seed=graph_seed)
    g, scm, y = env.scm.graph, env.scm, env.target
    assert len(env.variables) == n_nodes and len(scm.hidden) == n_hidden
    causal, spurious = set(env.causal_variables), set(env.spurious_variables)
    assert causal and spurious
    # Roles follow from the graph: causal = observed ancestors (observed paths); spurious = non-causes
    # d-connected to y both marginally and given the causes; other = d-separated given the causes.
    observed_ancestors = nx.ancestors(g.subgraph(scm.observed), y)
    for v in env.variables:
        role = env.roles[v]
        assert (role == "causal") == (v in observed_ancestors)
        if role != "causal":
            assert v not in nx.ancestors(g, y)
            informative = not d_separated(g, v, y, causal)
            assert informative == (role == "spurious"), (v, role)
            if role == "spurious":
                assert not d_separated(g, v, y, set())
    # No hidden node reaches a cause, so the oracle is back-door free in every domain.
    assert not any(set(scm.hidden) & nx.ancestors(g, c) for c in causal)
    assert all(exact.backdoor_free(s, env.causal_variables, y) for s in env.domain_scms)
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
    env = cb.make("RandomSCM-v0")
    assert env.options == {"n_nodes": 8, "n_hidden": 2, "density": 0.3, "nonlinearity": "tanh", "graph_seed": 0}
    d = env.dataset("domains", n=100, seed=3)
    assert d.spec.options == env.options and d.X.shape == (100, 8) and set(np.unique(d.domain)) == {0, 1}
    assert set(d.feature_names) == set(env.variables) and not set(d.feature_names) & set(env.scm.hidden)
    assert env.target_kind == "real"


@pytest.mark.parametrize("options, match", [
    ({"n_nodes": 1}, "n_nodes"), ({"n_hidden": 0}, "n_hidden"), ({"density": 1.5}, "density"),
    ({"nonlinearity": "relu"}, "nonlinearity"), ({"graph_seed": -1}, "graph_seed"), ({"n_nodes": 8.0}, "n_nodes"),
    ({"colour": "red"}, "bad options"),
])
def test_bad_options_are_one_line_errors(options: dict, match: str) -> None:
    with pytest.raises(CausalBenchError, match=match) as info:
        cb.make("RandomSCM-v0", **options)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------- determinism


def test_instances_are_pure_functions_of_the_options() -> None:
    a = cb.make("RandomSCM-v0", n_nodes=12, n_hidden=3, graph_seed=5)
    b = cb.make("RandomSCM-v0", n_nodes=12, n_hidden=3, graph_seed=5, density=0.3, nonlinearity="tanh")
    assert a.scm.hash == b.scm.hash and a.options == b.options
    assert a.dataset(n=500, seed=1).fingerprint == b.dataset(n=500, seed=1).fingerprint
    assert a.scm.hash != cb.make("RandomSCM-v0", n_nodes=12, n_hidden=3, graph_seed=6).scm.hash
    assert cb.make("RandomSCM-v0").scm.hash == cb.make("RandomSCM-v0").scm.hash
    # The nonlinearity changes the mechanisms, never the graph.
    graphs = [cb.make("RandomSCM-v0", n_nodes=12, n_hidden=3, graph_seed=5, nonlinearity=k).scm.graph
              for k in NONLINEARITIES]
    assert all(set(g.edges) == set(graphs[0].edges) for g in graphs)
    assert len({cb.make("RandomSCM-v0", nonlinearity=k).scm.hash for k in NONLINEARITIES}) == 3


# ---------------------------------------------------------------- ground truth


def test_gauss_tanh_mean_against_quadrature_and_sampling() -> None:
    x, w = hermgauss(200)  # Gauss-Hermite is accurate to ~1e-15 for small s
    for m in (-2.0, 0.0, 0.7):
        assert gauss_tanh_mean(m, 0.0) == pytest.approx(np.tanh(m), abs=1e-13)
        for s in (0.3, 1.0):
            ref = np.tanh(m + np.sqrt(2) * s * x) @ w / np.sqrt(np.pi)
            assert abs(gauss_tanh_mean(m, s) - ref) < 1e-12
    z = np.random.default_rng(0).standard_normal(1_000_000)
    for m, s in ((0.7, 3.0), (-2.0, 8.0)):  # wide: checked against a large sample, 5 standard errors
        t = np.tanh(m + s * z)
        assert abs(gauss_tanh_mean(m, s) - t.mean()) < 5 * t.std() / np.sqrt(len(z))


@pytest.mark.parametrize("nonlinearity, graph_seed", [("tanh", 0), ("mlp", 0), ("tanh", 7), ("mlp", 11)])
def test_oracle_matches_interventional_monte_carlo(nonlinearity: str, graph_seed: int) -> None:
    """oracle(c) = E[y | do(C = c)] over the training mixture: averaged over 40k units per domain."""
    env = cb.make("RandomSCM-v0", nonlinearity=nonlinearity, graph_seed=graph_seed)
    rows = env.dataset("observational", n=4, seed=9).X
    m = 40_000
    pred = env.oracle(rows)
    for i, row in enumerate(rows):
        do = {c: float(row[env.variables.index(c)]) for c in env.causal_variables}
        ys = [s.sample(m, seed=100 + i, do=do)[env.target] for s in env.domain_scms]
        mc = np.mean([y.mean() for y in ys])
        se = np.sqrt(np.sum([y.var() / m for y in ys])) / len(ys)
        assert abs(pred[i] - mc) < 5 * se, (i, pred[i], mc, se)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_oracle_is_the_conditional_mean(nonlinearity: str) -> None:
    """Residuals y - oracle(X) have mean 0 and no linear relation to the causes (5 standard errors)."""
    env = cb.make("RandomSCM-v0", nonlinearity=nonlinearity, graph_seed=3)
    d = env.dataset("observational", n=100_000, seed=4)
    r = d.y - env.oracle(d.X)
    C = d.X[:, [env.variables.index(c) for c in env.causal_variables]]
    coef, se = ols_fit(np.column_stack([C, np.tanh(C)]), r)
    assert np.all(np.abs(coef) < 5 * se), (coef, se)


def test_linear_true_effects_are_exact() -> None:
    env = cb.make("RandomSCM-v0", nonlinearity="linear", graph_seed=2)
    for v in env.spurious_variables:
        eff = env.true_effect(v, [-2.0, 0.0, 2.0])
        assert eff is not None and np.ptp(eff) < 1e-12  # a non-cause has no effect
    units = [s.units(50_000, seed=k) for k, s in enumerate(env.domain_scms)]
    for v in env.causal_variables:
        truth = env.true_effect(v, [-1.0, 1.0])
        for a, t in zip([-1.0, 1.0], truth):
            ys = [u.sample({v: a})[env.target] for u in units]
            se = np.sqrt(np.sum([y.var() / len(y) for y in ys])) / 2
            assert abs(np.mean([y.mean() for y in ys]) - t) < 5 * se
    assert cb.make("RandomSCM-v0", nonlinearity="tanh").true_effect(env.variables[0], [0.0]) is None


# ---------------------------------------------------------------- shifts and the confusion story


def test_shifts_do_what_they_say() -> None:
    env = cb.make("RandomSCM-v0", nonlinearity="linear", graph_seed=1)
    n, links = 100_000, list(env.link_edges)

    def link_covariances(sample) -> tuple[np.ndarray, np.ndarray]:
        """Cov(link child, y - oracle) and its standard error: the information beyond the causes."""
        r = sample[env.target] - env.oracle(sample.columns(env.variables))
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
    sample, _ = env.test_sample("confounder_shift@2", seed=2, n=n)
    assert all(abs(sample[h].mean() - 2.0) < 5 / np.sqrt(n) for h in env.scm.hidden)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_ols_is_causally_confused_and_the_oracle_is_not(nonlinearity: str) -> None:
    env = cb.make("RandomSCM-v0", nonlinearity=nonlinearity)
    oracle = cb.score(lambda X: env.oracle(X), env)
    assert oracle.spurious_reliance == 0.0 and oracle.causal_reliance == 1.0
    assert abs(oracle.ood_score) < 1e-12
    gaps = {k: oracle.null_risk[k] - oracle.oracle_risk[k] for k in oracle.null_risk}
    assert all(g > 0.1 for g in gaps.values()), gaps  # the oracle beats the null predictor everywhere
    ols = cb.score(ols_predictor(env), env)
    assert ols.spurious_reliance > 0.4, ols.spurious_reliance
    assert ols.risk_id < oracle.risk_id  # in distribution the spurious features help...
    assert ols.risk["spurious_reversal@1"] > 1.5 * oracle.oracle_risk["spurious_reversal@1"]  # ...then hurt
    assert ols.ood_score > 0.1


# ---------------------------------------------------------------- the fast builder keeps every parameter

# GOLDEN SCM hashes, recorded with the builder as it was before issue 16 (column-by-column pilot,
# networkx roles, O(n^2) layout loops). They are not derived independently: their only claim is that
# the linear-in-edges builder produces exactly the same parameters (sha256 of the canonical model).
RECORDED_HASHES = Path(__file__).with_name("random_scm_hashes.json")


@pytest.mark.parametrize("options", sorted(json.loads(RECORDED_HASHES.read_text())))
def test_builder_keeps_the_recorded_parameters(options: str) -> None:
    expected = json.loads(RECORDED_HASHES.read_text())[options]
    assert cb.make("RandomSCM-v0", **json.loads(options)).scm.hash == expected


def _networkx_roles(parents: dict, hidden: set, target: str) -> dict:
    """The roles as defined with networkx (the reference formulation derive_roles replaced)."""
    g = nx.DiGraph([(p, v) for v, ps in parents.items() for p in ps])
    g.add_nodes_from(parents)
    observed = [v for v in g if v not in hidden]
    causal = nx.ancestors(g.subgraph(observed), target)
    rest = g.subgraph([v for v in g if v not in causal])
    sources = [target] + [h for h in g.predecessors(target) if h in hidden]
    linked = set().union(*(nx.descendants(rest, s) for s in sources))
    return {v: "target" if v == target else "causal" if v in causal else "spurious" if v in linked else "other"
            for v in observed}


@pytest.mark.parametrize("n_nodes,n_hidden,density,seed", [(8, 2, 0.3, 0), (40, 5, 0.1, 1), (60, 3, 0.05, 2),
                                                           (25, 1, 0.6, 3), (2, 1, 0.0, 4)])
def test_derive_roles_matches_the_networkx_definition(n_nodes: int, n_hidden: int, density: float, seed: int) -> None:
    lay = random_layout(n_nodes, n_hidden, density, seed)
    assert derive_roles(lay.parents, set(lay.hidden), "y") == _networkx_roles(dict(lay.parents), set(lay.hidden), "y")
