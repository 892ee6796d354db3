"""IceCreamHD-v1: the IceCreamShorts world behind a 64-dim nonlinear observation."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.envs.high_dim import EMBED_DIM, IceCreamHD


@pytest.fixture(scope="module")
def env() -> IceCreamHD:
    return cb.make("IceCreamHD-v1")


def ols_predictor(d: cb.Dataset):
    Z = np.column_stack([d.X, np.ones(d.n)])
    coef, *_ = np.linalg.lstsq(Z, d.y, rcond=None)
    return lambda X: np.column_stack([X, np.ones(len(X))]) @ coef


def test_only_the_observation_changes(env: IceCreamHD) -> None:
    base = cb.make("IceCreamShorts-v1")
    assert env.scm.hash == base.scm.hash
    assert env.variables == base.variables == ("ice_cream", "sale_day") and env.roles == base.roles
    assert [d.name for d in env.domains] == [d.name for d in base.domains]
    assert env.test_set_names() == base.test_set_names()
    assert env.action == base.action and env.action_values == base.action_values
    V = base.pilot.columns(base.variables)[:1000]
    np.testing.assert_array_equal(env.truth.causal_reference(V), base.truth.causal_reference(V))
    np.testing.assert_array_equal(env.truth.bayes(V, "heatwave@2"), base.truth.bayes(V, "heatwave@2"))
    assert env.truth.true_effect("sale_day", [0.0, 1.0]).tolist() == base.truth.true_effect("sale_day", [0.0, 1.0]).tolist()


def test_datasets_are_64_dim_with_latent_roles(env: IceCreamHD) -> None:
    d = env.dataset("interventional", n=500, seed=1)
    assert d.X.shape == (500, EMBED_DIM) and d.X.dtype == np.float64
    assert d.feature_names == tuple(f"x{i:02d}" for i in range(64))
    assert d.variables == ("ice_cream", "sale_day") and d.roles == {"ice_cream": "proxy", "sale_day": "action"}
    assert d.intervened.shape == (500, 2)
    assert d.fingerprint == cb.make("IceCreamHD-v1").dataset("interventional", n=500, seed=1).fingerprint


def test_render_is_a_fixed_injective_nonlinear_map(env: IceCreamHD) -> None:
    V = env.pilot.columns(env.variables)[:20_000]
    X = env.render(V)
    np.testing.assert_array_equal(X, IceCreamHD().render(V))  # weights fixed by the seed, not the instance
    np.testing.assert_allclose(env.decode(X), V, rtol=0, atol=1e-12)  # injective: exact inverse
    np.testing.assert_array_equal(env.render(V[:7]), X[:7])  # row-wise: no batch dependence
    # Nonlinear: the best affine map from the latents explains well under 99% of the feature variance.
    Z = np.column_stack([V, np.ones(len(V))])
    resid = X - Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    assert resid.var(axis=0).sum() / X.var(axis=0).sum() > 0.05
    # No feature is constant or a copy of a latent.
    assert np.all(X.std(axis=0) > 0.05)
    corr = np.corrcoef(np.column_stack([X, V]).T)[:EMBED_DIM, EMBED_DIM:]
    assert np.abs(corr).max() < 0.99


def test_decoding_then_a_reference_scores_as_that_reference(env: IceCreamHD) -> None:
    from causalbench.scoring import get_suite, score_predictions

    suite = get_suite(env, 0)
    for ref in (lambda V: env.truth.causal_reference(V), lambda V: env.truth.bayes(V, "id")):
        s = cb.score(lambda X: ref(env.decode(X)), env)
        b = score_predictions({k: ref(V) for k, V in suite.latents.items()}, env, 0)
        for field in ("excess_risk", "effect_error_by_variable", "regret_by_test_set"):
            got, want = getattr(s, field), getattr(b, field)
            assert all(abs(got[k] - want[k]) < 1e-6 for k in want), field
    causal = cb.score(lambda X: env.truth.causal_reference(env.decode(X)), env)
    assert causal.spurious_reliance < 1e-12 and causal.causal_reliance > 1 - 1e-12 and causal.regret == 0.0


def test_linear_model_on_features_is_confused(env: IceCreamHD) -> None:
    ols = ols_predictor(env.dataset("observational", n=20_000, seed=0))
    s = cb.score(ols, env)
    assert s.spurious_reliance > 0.5, s.spurious_reliance
    causal = cb.score(lambda X: env.truth.causal_reference(env.decode(X)), env)
    const = cb.score(lambda X: np.full(len(X), env.truth.null), env)
    assert s.excess_risk["kiosk_reversed@1"] > const.excess_risk["kiosk_reversed@1"]  # worse than a constant
    assert s.excess_risk_id < causal.excess_risk_id  # while looking better than the causal reference in distribution
    assert s.effect_error_by_variable["ice_cream"] > 0.2  # it believes ice cream moves shorts sales
