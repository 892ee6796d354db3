"""pgmpy interop: every all-discrete and linear-Gaussian SCM exports, others say why; the published networks round-trip."""

from __future__ import annotations

import functools
import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest

import causalbench as cb
from causalbench.scm import (SCM, Additive, Bernoulli, Categorical, Linear, Logistic, MLP, Normal, Threshold,
                             Variable, exact)
from causalbench.scm.pgmpy_io import export_blocker
from causalbench.testing import one_line_error

pgmpy = pytest.importorskip("pgmpy", reason='pgmpy interop is optional: pip install "causalbench-suite[pgmpy]"')
EXAMPLES = Path(pgmpy.__file__).parent / "utils" / "example_models"
# pgmpy's bundled networks (bnlearn repository, published CPTs) and a target for each.
# (Reading a .bif file takes pgmpy ~1 s, so four networks: binary, small, 3-state and multi-state.)
DISCRETE_NETWORKS = {"asia": "dysp", "cancer": "Cancer", "sachs": "Akt", "child": "Disease"}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@functools.lru_cache(maxsize=None)
def _read(path: Path):
    if path.suffix == ".json":
        from pgmpy.models import LinearGaussianBayesianNetwork

        return _quiet(LinearGaussianBayesianNetwork.load, str(path))
    from pgmpy.readwrite import BIFReader

    return _quiet(lambda: BIFReader(string=gzip.decompress(path.read_bytes()).decode()).get_model())


def _published(name: str):
    """A bundled network read from its file (a missing file is a skip, which CI turns into a failure)."""
    path = EXAMPLES / (f"{name}.bif.gz" if name in DISCRETE_NETWORKS else f"{name}.json")
    if not path.exists():
        pytest.skip(f"pgmpy no longer ships {path.name}")
    return _read(path)


@pytest.mark.parametrize("env_id", cb.list_envs())
def test_every_registered_scm_exports_or_names_what_prevents_it(env_id) -> None:
    scm = cb.make(env_id).scm
    blocker = export_blocker(scm)
    if blocker is None:
        model = scm.to_pgmpy()
        assert set(model.nodes()) == set(scm.names) and set(model.latents) == set(scm.hidden)
        back = SCM.from_pgmpy(model)  # the target travels as pgmpy's outcome
        assert back.target == scm.target and set(back.hidden) == set(scm.hidden)
    else:
        bad = next(n for n in scm.names if f"variable {n!r}" in blocker)
        with one_line_error(f"variable {bad!r}"):
            scm.to_pgmpy()
        assert repr(scm[bad].mechanism.type) in blocker


def test_mixed_and_nonlinear_scms_name_the_variable_and_mechanism() -> None:
    with one_line_error("variable 'sale_day' is binary (mechanism 'bernoulli')"):
        cb.make("IceCreamShorts-v1").scm.to_pgmpy()
    with one_line_error("variable 'sun_exposure' is real-valued (mechanism 'linear')"):
        cb.make("LabelFlip-v0").scm.to_pgmpy()
    scm = SCM([Variable("a", Normal()), Variable("b", MLP.random(["a"], seed=0))])
    with one_line_error("variable 'b' has mechanism 'mlp', which is not linear-Gaussian"):
        scm.to_pgmpy()


def test_every_discrete_mechanism_exports_with_the_same_law() -> None:
    scm = SCM([Variable("u", Bernoulli(0.3), hidden=True), Variable("c", Categorical((0.2, 0.5, 0.3))),
               Variable("t", Logistic({"u": 2.0, "c": -0.7}, intercept=0.1)),
               Variable("y", Threshold({"t": 1.0, "c": 0.5, "u": -1.0}, threshold=0.4, std=0.8), role="target")])
    scm = scm.do({"c": 2.0})  # a hard do() makes a constant mechanism: still discrete
    from pgmpy.inference import VariableElimination

    model = scm.to_pgmpy(latents=False)
    names, states, probs = exact.discrete_joint(scm)
    q = _quiet(VariableElimination(model).query, list(names), joint=True, show_progress=False)
    for row, p in zip(states.astype(int), probs):
        assert abs(q.get_value(**dict(zip(names, row))) - p) < 1e-12
    n = 200_000
    p_y = q.marginalize([v for v in names if v != "y"], inplace=False).get_value(y=1)
    assert abs(scm.sample(n, seed=1)["y"].mean() - p_y) < 5 * np.sqrt(p_y * (1 - p_y) / n)


def test_linear_gaussian_scms_export_including_identity_additive_and_do() -> None:
    additive = SCM([Variable("a", Normal(1.0, 2.0)), Variable("b", Additive({"a": 0.5}, fn="identity", scale=2.0,
                                                                             offset=1.0, std=0.3), role="target")])
    linear = SCM([Variable("a", Normal(1.0, 2.0)), Variable("b", Linear({"a": 1.0}, intercept=1.0, std=0.3))])
    for scm, reference in ((additive, linear), (linear.do({"a": 3.0}), linear.do({"a": 3.0}))):
        model = scm.to_pgmpy()
        mean, cov = _quiet(model.to_joint_gaussian)
        names, m_ref, c_ref = exact.linear_gaussian_moments(reference)
        idx = [list(model.nodes()).index(n) for n in names]
        np.testing.assert_allclose(np.asarray(mean).ravel()[idx], m_ref, atol=1e-12)
        np.testing.assert_allclose(np.asarray(cov)[np.ix_(idx, idx)], c_ref, atol=1e-12)


@pytest.mark.parametrize("name", sorted(DISCRETE_NETWORKS))
def test_published_discrete_networks_round_trip_their_cpts(name) -> None:
    published = _published(name)
    target = DISCRETE_NETWORKS[name]
    scm = SCM.from_pgmpy(published, target=target, name=name)
    assert scm.target == target and len(scm.names) == len(published.nodes())
    back = scm.to_pgmpy()
    assert back.outcomes == {target}
    for cpd in published.get_cpds():
        node = cpd.variable
        mine = back.get_cpds(node)
        assert list(mine.variables) == list(cpd.variables), node
        np.testing.assert_array_equal(mine.get_values(), cpd.get_values(), err_msg=node)


def test_published_linear_gaussian_network_round_trips() -> None:
    published = _published("ecoli70")
    scm = SCM.from_pgmpy(published, target=None, name="ecoli70")
    assert scm.target is None and scm.is_linear_gaussian
    back = scm.to_pgmpy()
    for cpd in published.get_cpds():
        mine = back.get_cpds(cpd.variable)
        order = [list(mine.evidence).index(e) for e in cpd.evidence]
        np.testing.assert_array_equal(np.r_[mine.beta[0], np.asarray(mine.beta[1:])[order]], cpd.beta)
        assert mine.std == cpd.std


def test_from_pgmpy_asks_for_the_target() -> None:
    published = _published("asia")
    with one_line_error("SCM.from_pgmpy needs the target variable: pass target='<node>'"):
        SCM.from_pgmpy(published)
    with one_line_error("SCM.from_pgmpy needs the target variable"):
        SCM.from_pgmpy(published, hidden=["lung"])
    scm = SCM.from_pgmpy(published, target="dysp", hidden=["lung"])
    assert scm.target == "dysp" and scm["dysp"].role == "target" and scm["smoke"].role == "other"
    assert scm.hidden == ("lung",)
    with one_line_error("target 'nope' is not a node"):
        SCM.from_pgmpy(published, target="nope")
    with one_line_error("cannot also be hidden"):
        SCM.from_pgmpy(published, target="dysp", hidden=["dysp"])
    assert SCM.from_pgmpy(published, target=None).target is None
