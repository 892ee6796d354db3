"""IRMSynthetic-v0: the law of the paper's chain SEM, its settings, its true weights and the paper's errors()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import causalbench as cb
from causalbench.envs.irm_synthetic import PAPER_ENVS, SETTINGS, TRAINING_ENVS, IRMSynthetic
from causalbench.scm import exact, rng
from causalbench.testing import one_line_error


def sem_moments(env: IRMSynthetic, e: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Cov([x, z]), Cov([x, z], y.sum(1)) and Var(y.sum(1)) of the paper's `ChainEquationModel.__call__(n, e)`,
    written independently of the SCM: every block as (standard noises eh, ex, ey, ez) @ M."""
    s, k = env.sem, env.k
    blocks = [np.zeros((4 * k, k)) for _ in range(4)]
    for b in range(4):
        blocks[b][b * k:(b + 1) * k] = np.eye(k)
    sy, sz = (e, 1.0) if s.hetero else (1.0, e)
    Mh = e * blocks[0]                                   # h = randn * e
    Mx = Mh @ s.whx + e * blocks[1]                      # x = h @ whx + randn * e
    My = Mx @ s.wxy + Mh @ s.why + sy * blocks[2]        # y = x @ wxy + h @ why + randn * (e or 1)
    Mz = My @ s.wyz + Mh @ s.whz + sz * blocks[3]        # z = y @ wyz + h @ whz + randn * (1 or e)
    MV, MY = np.hstack([Mx, Mz]), My.sum(axis=1)
    return MV.T @ MV, MV.T @ MY, float(MY @ MY)


@pytest.mark.parametrize("setting", ["FOU", "POS", "FEU", "PES"])
@pytest.mark.parametrize("e", PAPER_ENVS)
def test_exact_law_is_the_sems(setting: str, e: float) -> None:
    env = cb.make("IRMSynthetic-v0", setting=setting, sem_seed=3)
    cov_v, cov_vy, var_y = sem_moments(env, e)
    names, mean, cov = exact.linear_gaussian_moments(env.scm.do(env.environment(e)))
    idx = [names.index(v) for v in env.variables]
    t = names.index("y_sum")
    assert np.allclose(mean, 0.0)
    np.testing.assert_allclose(cov[np.ix_(idx, idx)], cov_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov[idx, t], cov_vy, rtol=1e-12, atol=1e-12)
    assert cov[t, t] == pytest.approx(var_y, rel=1e-12)


@pytest.mark.parametrize("setting", ["FOU", "POS"])
def test_sample_moments_of_the_paper_environments(setting: str) -> None:
    """Each environment's sample covariance of the features and the target, within 5 sd of the SEM's."""
    env = cb.make("IRMSynthetic-v0", setting=setting, sem_seed=1)
    n = 20_000
    data = env.paper_environments(n, seed=4)
    S = env.sem.scramble
    assert np.array_equal(np.bincount(data.domain), [n] * 3)
    for k, e in enumerate(PAPER_ENVS):
        cov_v, cov_vy, var_y = sem_moments(env, e)
        D = np.column_stack([data.X[data.domain == k], data.y[data.domain == k]])
        sigma = np.block([[S.T @ cov_v @ S, (S.T @ cov_vy)[:, None]], [(S.T @ cov_vy)[None], np.array([[var_y]])]])
        emp = D.T @ D / n                           # the means are 0
        # Var of a sample covariance of Gaussians: (s_ii s_jj + s_ij^2) / n.
        sd = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma ** 2) / n)
        assert np.all(np.abs(emp - sigma) < 5 * sd), (e, np.max(np.abs(emp - sigma) / sd))


def test_settings_build_the_papers_matrices() -> None:
    k, eye, zero = 5, np.eye(5), np.zeros((5, 5))
    for setting in SETTINGS:
        s = cb.make("IRMSynthetic-v0", setting=setting).sem
        assert np.array_equal(s.wxy, eye) and np.array_equal(s.wyz, eye)          # ones=True
        assert s.hidden == (setting[0] == "P") and s.hetero == (setting[1] == "E")
        if setting[0] == "F":
            assert np.array_equal(s.whx, eye) and np.array_equal(s.why, zero) and np.array_equal(s.whz, zero)
        else:                                     # N(0, 1) / dim: 75 draws with sd 1/10
            entries = np.concatenate([s.whx.ravel(), s.why.ravel(), s.whz.ravel()]) * 10
            assert abs(entries.mean()) < 4 / np.sqrt(3 * k * k) and 0.7 < entries.std() < 1.3
        assert np.allclose(s.scramble @ s.scramble.T, np.eye(10), atol=1e-12)
        assert np.array_equal(s.scramble, np.eye(10)) == (setting[2] == "U")


def test_scramble_is_the_q_of_torch_qr() -> None:
    """The paper scrambles with torch.qr(torch.randn(dim, dim))[0]: same LAPACK factorisation as numpy's."""
    env = cb.make("IRMSynthetic-v0", setting="FOS", sem_seed=2)
    S = env.sem.scramble
    assert np.allclose(S.T @ S, np.eye(10), atol=1e-12)
    A = rng(2, "IRMSynthetic", "scramble", "10").standard_normal((10, 10))
    np.testing.assert_allclose(S, torch.linalg.qr(torch.as_tensor(A)).Q.numpy(), atol=1e-12)


def test_scrambled_features_are_the_unscrambled_ones_rotated() -> None:
    a, b = cb.make("IRMSynthetic-v0", setting="POU"), cb.make("IRMSynthetic-v0", setting="POS")
    da, db = a.paper_environments(50, 0), b.paper_environments(50, 0)
    np.testing.assert_allclose(db.X, da.X @ b.sem.scramble, atol=1e-12)
    assert db.feature_names[0] == "s01" and da.feature_names == a.variables == db.variables
    assert np.array_equal(da.y, db.y)


@pytest.mark.parametrize("setting", ["FOU", "PES"])
def test_causal_solution_is_each_variables_effect_on_the_target(setting: str) -> None:
    """Known answer (sem.solution(), ones=True): weight 1 on every x, 0 on every z. Checked on paired units:
    do(v = a + 1) vs do(v = a) moves y_sum by exactly the weight for every unit, in every environment."""
    env = cb.make("IRMSynthetic-v0", setting=setting, sem_seed=5)
    sol = env.causal_solution()
    assert sol.weights.tolist() == [1.0] * 5 + [0.0] * 5
    for e in (0.2, 5.0):
        units = env.scm.do(env.environment(e)).units(1000, seed=7)
        for j, v in enumerate(env.variables):
            diff = units.sample({v: 1.3})["y_sum"] - units.sample({v: 0.3})["y_sum"]
            np.testing.assert_allclose(diff, sol.weights[j], atol=1e-12)


def test_errors_are_the_papers_errors() -> None:
    """errors(b) = main.py's errors(w, S @ b): mean squared gap over causal / non-causal entries."""
    env = cb.make("IRMSynthetic-v0", setting="FOS")
    sol = env.causal_solution()
    assert sol.errors(sol.feature_weights) == pytest.approx((0.0, 0.0), abs=1e-24)
    delta = np.arange(10) / 10
    b = sol.scramble.T @ (sol.weights + delta)            # a predictor X b = V (w + delta)
    causal, noncausal = sol.errors(b)
    assert causal == pytest.approx(np.mean(delta[:5] ** 2)) and noncausal == pytest.approx(np.mean(delta[5:] ** 2))


def test_training_domains_and_validation_shift() -> None:
    env = cb.make("IRMSynthetic-v0")
    assert [d.name for d in env.domains] == [f"e={e:g}" for e in TRAINING_ENVS]
    assert "irm_env@5" in env.test_set_names()
    shift, sev = env.shift("irm_env@5")
    assert shift.intervention(sev).keys() == env.environment(5.0).keys()


def test_bad_options_are_one_line_errors() -> None:
    with one_line_error("setting"):
        cb.make("IRMSynthetic-v0", setting="XYZ")
    with one_line_error("dim"):
        cb.make("IRMSynthetic-v0", dim=7)
    assert cb.make("IRMSynthetic-v0", dim=4).variables == ("x1", "x2", "z1", "z2")
