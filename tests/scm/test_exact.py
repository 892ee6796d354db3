"""Exact ground truth cross-checked against pgmpy and large samples."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import causalbench as cb
from causalbench.scm import SCM, Bernoulli, Linear, Logistic, Normal, Variable, exact


def _pgmpy_inference():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import CausalInference, VariableElimination
    return CausalInference, VariableElimination


@pytest.mark.parametrize("do_value", [0.0, 1.0])
def test_treatment_do_marginal_matches_pgmpy_and_samples(do_value: float) -> None:
    env = cb.make("TreatmentRecovery-v0")
    scm = env.scm
    CausalInference, _ = _pgmpy_inference()
    model = scm.to_pgmpy(latents=False)  # ground truth: pgmpy sees the full model
    q = CausalInference(model).query(["recovered"], do={"treated": int(do_value)}, show_progress=False)
    p_pgmpy = float(q.get_value(recovered=1))
    p_exact = exact.expectation(scm, "recovered", {"treated": do_value})
    assert abs(p_pgmpy - p_exact) < 1e-9
    n = 200_000
    p_mc = scm.sample(n, 3, do={"treated": do_value})["recovered"].mean()
    assert abs(p_mc - p_exact) < 5 * np.sqrt(p_exact * (1 - p_exact) / n)


def test_conditional_mean_matches_pgmpy_over_a_mixture_of_domains() -> None:
    from causalbench.scm.conditional import conditional_mean_fn

    env = cb.make("TreatmentRecovery-v0")
    _, VariableElimination = _pgmpy_inference()
    # Mixture of the two hospitals: P(R | T, A) = sum_k P(k) P_k(T, A, R) / sum_k P(k) P_k(T, A).
    joint = {}
    for scm in env.domain_scms:
        ve = VariableElimination(scm.to_pgmpy(latents=False))
        f = ve.query(["treated", "old", "recovered"], show_progress=False)
        for t in (0, 1):
            for a in (0, 1):
                pr1 = f.get_value(treated=t, old=a, recovered=1)
                pr0 = f.get_value(treated=t, old=a, recovered=0)
                m, r = joint.get((t, a), (0.0, 0.0))
                joint[(t, a)] = (m + pr0 + pr1, r + pr1)
    fn = conditional_mean_fn([(0.5, s) for s in env.domain_scms], "recovered", ("treated", "old"))
    for (t, a), (mass, mom) in joint.items():
        assert abs(fn(np.array([[t, a]], dtype=float))[0] - mom / mass) < 1e-9


def test_linear_gaussian_moments_match_pgmpy_joint() -> None:
    scm = SCM([Variable("a", Normal(1.0, 2.0)), Variable("b", Linear({"a": 0.5}, intercept=1.0, std=0.3)),
               Variable("c", Linear({"a": -1.0, "b": 2.0}, std=1.5))])
    names, mean, cov = exact.linear_gaussian_moments(scm)
    model = scm.to_pgmpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm, pc = model.to_joint_gaussian()
    nodes = list(model.nodes())
    idx = [nodes.index(n) for n in names]
    np.testing.assert_allclose(np.asarray(pm).ravel()[idx], mean, atol=1e-10)
    np.testing.assert_allclose(np.asarray(pc)[np.ix_(idx, idx)], cov, atol=1e-10)
    s = scm.sample(400_000, 0)
    np.testing.assert_allclose(np.cov(s.data, rowvar=False), cov, atol=0.05 * np.abs(cov).max())


def test_from_pgmpy_round_trip_same_law() -> None:
    env = cb.make("TreatmentRecovery-v0")
    back = SCM.from_pgmpy(env.scm.to_pgmpy(), hidden=["severity"])
    assert set(back.hidden) == {"severity"}
    for v in env.scm.names:
        for value in (0.0, 1.0):
            assert abs(exact.expectation(back, "recovered", {v: value}) - exact.expectation(env.scm, "recovered", {v: value})) < 1e-12


def test_mixed_mean_propagation_is_exact() -> None:
    scm = SCM([Variable("b", Bernoulli(0.3)), Variable("x", Normal(2.0)), Variable("y", Linear({"b": 4.0, "x": -1.0}))])
    assert abs(exact.expectation(scm, "y") - (4 * 0.3 - 2.0)) < 1e-12
    with pytest.raises(cb.CausalBenchError):
        exact.expectation(SCM([Variable("x", Normal()), Variable("y", Logistic({"x": 1.0}))]), "y")
