"""DESIGN.md's known answers, checked statistically with tolerances derived from n."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.scm import SCM, Linear, Normal, Variable


def ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (with intercept last) and their standard errors."""
    Z = np.column_stack([X, np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(Z, y, rcond=None)
    resid = y - Z @ coef
    sigma2 = resid @ resid / (len(y) - Z.shape[1])
    se = np.sqrt(np.diag(np.linalg.inv(Z.T @ Z)) * sigma2)
    return coef, se


@pytest.mark.parametrize("a, b", [(2.0, 1.5), (1.0, 1.0), (0.5, -2.0)])
def test_ice_cream_ols_slope_and_zero_effect(a: float, b: float) -> None:
    scm = SCM([Variable("T", Normal(), hidden=True), Variable("I", Linear({"T": a})),
               Variable("S", Linear({"T": b}), role="target")])
    s = scm.sample(200_000, seed=0)
    coef, se = ols(s["I"][:, None], s["S"])
    assert abs(coef[0] - a * b / (a**2 + 1)) < 5 * se[0]
    # The true effect of do(I) on S is 0: paired units give identical S under any do(I).
    lo, hi = scm.sample(1000, 1, do={"I": -3.0}), scm.sample(1000, 1, do={"I": 3.0})
    assert np.array_equal(lo["S"], hi["S"])
    from causalbench.scm import exact

    assert exact.expectation(scm, "S", {"I": 5.0}) == 0.0


def test_ice_cream_env_causal_reference_and_effects() -> None:
    env = cb.make("IceCreamShorts-v1")
    V = env.dataset("observational", n=20, seed=0).X
    w = V[:, env.variables.index("sale_day")]
    # E[S | do(I = i, W = w)] = 1.5 E[T] + 2 w, E[T] = 0 over the climates (ice cream has no effect).
    np.testing.assert_allclose(env.truth.causal_reference(V), 2.0 * w, atol=1e-12)
    np.testing.assert_allclose(env.truth.true_effect("ice_cream", [-2, 0, 3]), [4 / 7] * 3, atol=1e-12)
    np.testing.assert_allclose(env.truth.true_effect("sale_day", [0, 1]), [0.0, 2.0], atol=1e-12)


def test_ice_cream_env_observational_slope_matches_mixture_formula() -> None:
    """Over the two climates (T means -0.5, +0.5) Var T = 1.25: slope = a b 1.25 / (a^2 1.25 + 1)."""
    env = cb.make("IceCreamShorts-v1")
    d = env.dataset("observational", n=200_000, seed=1)
    coef, se = ols(d.X, d.y)
    a, b = 2.0, 1.5
    assert abs(coef[0] - a * b * 1.25 / (a * a * 1.25 + 1)) < 5 * se[0]
    assert abs(coef[1] - 2.0) < 5 * se[1]


@pytest.mark.parametrize("k, s", [(0, 0.5), (1, 2.0)])
def test_irm_domain_ols_weights(k: int, s: float) -> None:
    env = cb.make("IRMLinear-v0")
    sample = env.domain_scms[k].sample(200_000, seed=3)
    coef, se = ols(sample.columns(["x1", "x2"]), sample["y"])
    expected = (1 / (s**2 + 1), s**2 / (s**2 + 1))
    assert abs(coef[0] - expected[0]) < 5 * se[0] and abs(coef[1] - expected[1]) < 5 * se[1]
    # The invariant solution is (1, 0): the causal reference E[y | do(x1, x2)] = x1.
    X = sample.columns(["x1", "x2"])[:50]
    np.testing.assert_allclose(env.truth.causal_reference(X), X[:, 0], atol=1e-12)


def test_do_on_spurious_keeps_mean_do_on_causal_moves_it_by_closed_form() -> None:
    env = cb.make("IceCreamShorts-v1")
    scm = env.domain_scms[1]
    n = 200_000
    base = scm.sample(n, 5)["shorts"]
    spur = scm.sample(n, 5, do={"ice_cream": 4.0})["shorts"]
    assert np.array_equal(base, spur)  # paired units: exactly unchanged
    indep = scm.sample(n, 6, do={"ice_cream": 4.0})["shorts"]
    assert abs(indep.mean() - base.mean()) < 5 * np.sqrt(2 * base.var() / n)
    on = scm.sample(n, 5, do={"sale_day": 1.0})["shorts"]
    off = scm.sample(n, 5, do={"sale_day": 0.0})["shorts"]
    np.testing.assert_allclose(on - off, 2.0)


def test_treatment_simpson_reversal() -> None:
    env = cb.make("TreatmentRecovery-v0")
    s = env.scm.sample(400_000, 0)
    t, r = s["treated"], s["recovered"]
    se = np.sqrt(0.25 / (t == 1).sum() + 0.25 / (t == 0).sum())
    assert r[t == 1].mean() - r[t == 0].mean() < -20 * se
    do1, do0 = env.truth.true_effect("treated", [1.0, 0.0])
    assert do1 > do0 + 0.1
