"""LabelFlip-v0: closed-form ground truth against integration and sampling; the ink-mark shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

import causalbench as cb
from causalbench.envs.label_flip import CLINICS, INK, LabelFlip, prob_melanoma

ENV_ID = "LabelFlip-v0"
N_MC = 200_000
# Documented in the env's "Known answers" (training mixture of the two clinics).
PRIOR = 0.2885847586
DO_SUN = {0.0: 0.3717781369, 1.0: 0.6732771195}
ORACLE = {0.0: 0.3120657469, 1.0: 0.5560946473}


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV_ID)


def _p_fair(scm) -> float:
    return scm.mechanism("fair_skin").p


def test_structure(env):
    assert env.target == "melanoma" and env.target_kind == "binary"
    assert env.scm.hidden == ("fair_skin",)
    assert env.roles == {"sun_exposure": "causal", "ink_mark": "spurious"}
    kinds = {s.kind for s in env.shifts}
    assert {"confounder", "spurious_break", "spurious_reversal", "causal_covariate"} <= kinds
    assert all(len(s.severities) >= 2 for s in env.shifts)
    assert [d.name for d in env.domains] == list(CLINICS)


def test_prior_matches_numerical_integration(env):
    """P(Y = 1) = sum_u P(u) int N(x; -u, 1) Phi(-1 + x + 1.5 u) dx, integrated numerically per clinic."""
    per_domain = []
    for scm in env.domain_scms:
        p = _p_fair(scm)
        total = 0.0
        for u, pu in ((0, 1 - p), (1, p)):
            val, _ = integrate.quad(lambda x: norm.pdf(x, -u, 1) * norm.cdf(-1 + x + 1.5 * u), -np.inf, np.inf,
                                    epsabs=1e-13, epsrel=1e-13)
            total += pu * val
        per_domain.append(total)
        assert prob_melanoma(scm) == pytest.approx(total, abs=1e-10)
    assert env.null_prediction == pytest.approx(np.mean(per_domain), abs=1e-10)
    assert env.null_prediction == pytest.approx(PRIOR, abs=1e-9)


def test_prior_matches_pilot_sample(env):
    y = env.pilot["melanoma"]
    se = np.sqrt(PRIOR * (1 - PRIOR) / len(y))
    assert abs(y.mean() - env.null_prediction) < 5 * se


def test_true_effect_closed_form(env):
    xs = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    expected = np.mean([(1 - _p_fair(s)) * norm.cdf(-1 + xs) + _p_fair(s) * norm.cdf(-1 + xs + 1.5)
                        for s in env.domain_scms], axis=0)
    np.testing.assert_allclose(env.true_effect("sun_exposure", xs), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(env.true_effect("sun_exposure", [0.0, 1.0]), [DO_SUN[0.0], DO_SUN[1.0]], atol=1e-9)
    np.testing.assert_allclose(env.true_effect("ink_mark", [0.0, 1.0]), [PRIOR, PRIOR], atol=1e-9)


@pytest.mark.parametrize("variable, value", [("sun_exposure", 0.0), ("sun_exposure", 1.0),
                                             ("ink_mark", 0.0), ("ink_mark", 1.0)])
def test_true_effect_matches_sampling(env, variable, value):
    """Each clinic sampled under do(); the mixture truth is the average of the clinic means."""
    means = [scm.sample(N_MC // 2, seed=5, do={variable: value})["melanoma"].mean() for scm in env.domain_scms]
    truth = float(env.true_effect(variable, [value])[0])
    se = np.sqrt(truth * (1 - truth) / N_MC)
    assert abs(np.mean(means) - truth) < 5 * se


def test_oracle_is_bayes_over_clinics_and_skin_type(env):
    """Independent evaluation of Bayes' rule over (clinic d, skin type u):
    P(Y = 1 | X = x) = sum_du P_d(u) N(x; -u, 1) Phi(-1 + x + 1.5 u) / sum_du P_d(u) N(x; -u, 1)."""
    xs = np.linspace(-3, 3, 13)
    num, den = np.zeros_like(xs), np.zeros_like(xs)
    for scm in env.domain_scms:
        p = _p_fair(scm)
        for u, pu in ((0, 1 - p), (1, p)):
            num += pu * norm.pdf(xs, -u, 1) * norm.cdf(-1 + xs + 1.5 * u)
            den += pu * norm.pdf(xs, -u, 1)
    V = np.column_stack([xs, np.zeros_like(xs)])
    np.testing.assert_allclose(env.oracle(V), num / den, rtol=0, atol=1e-12)
    # The oracle ignores the ink mark.
    np.testing.assert_array_equal(env.oracle(V), env.oracle(np.column_stack([xs, np.ones_like(xs)])))
    np.testing.assert_allclose(env.oracle(np.array([[0.0, 0], [1.0, 0]])), [ORACLE[0.0], ORACLE[1.0]], atol=1e-9)


def test_oracle_is_calibrated_on_training_data(env):
    """Within each decile of X, mean(Y - oracle(X)) is zero up to 5 standard errors."""
    data = env.dataset("observational", n=N_MC, seed=7)
    resid = data.y - env.oracle(data.X)
    x = data.X[:, 0]
    edges = np.quantile(x, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 9)
    for b in range(10):
        r = resid[bins == b]
        assert abs(r.mean()) < 5 * r.std() / np.sqrt(len(r)), b


def test_confounding_flattens_the_observational_curve(env):
    """Sun-seekers are rarely fair-skinned, so P(Y | X = x) < P(Y | do(X = x)) at these x."""
    xs = [0.0, 1.0, 2.0]
    assert np.all(env.oracle(np.column_stack([xs, np.zeros(3)])) < env.true_effect("sun_exposure", xs) - 0.04)


def test_ink_mark_mechanism_per_clinic(env):
    for (name, (_, p_mark)), scm in zip(CLINICS.items(), env.domain_scms):
        table = scm.mechanism("ink_mark").table
        np.testing.assert_allclose(table[1], [INK[0], p_mark], err_msg=name)
    flipped = env.scm.do(env.shift("ink_flipped@1")[0].intervention(1.0)).mechanism("ink_mark").table
    np.testing.assert_allclose(flipped[1], [INK[1], INK[0]])


def test_logistic_regression_takes_the_shortcut(env):
    """The fitted model relies mostly on the ink mark and its accuracy collapses when marking flips."""
    from sklearn.linear_model import LogisticRegression

    data = env.dataset("observational", n=50_000, seed=0)
    model = LogisticRegression(C=1e6, max_iter=1000).fit(data.X, data.y)
    coef = dict(zip(data.feature_names, model.coef_[0]))
    assert coef["ink_mark"] > 3.0 and coef["ink_mark"] > 2 * abs(coef["sun_exposure"])
    lr = cb.score(lambda X: model.predict_proba(X)[:, 1], env)
    oracle = cb.score(lambda X: env.oracle(X), env)
    assert lr.spurious_reliance > 0.7
    assert oracle.spurious_reliance == 0.0 and oracle.causal_reliance == 1.0
    assert lr.accuracy_id > 0.88 and lr.accuracy_id > oracle.accuracy_id + 0.1
    assert lr.accuracy["ink_flipped@1"] < 0.3 < oracle.accuracy["ink_flipped@1"] - 0.4
    assert lr.ood["ink_flipped@1"] > 5.0            # far worse than a constant
    assert lr.ood["ink_unreliable@1"] > 1.0
    for name in ("ink_unreliable@1", "ink_flipped@0.75", "ink_flipped@1"):
        assert abs(oracle.accuracy[name] - oracle.accuracy_id) < 0.03, name


def test_oracle_beats_null_on_every_shift(env):
    s = cb.score(lambda X: env.oracle(X), env)
    for name in s.null_risk:
        assert s.null_risk[name] - s.oracle_risk[name] > 0.05, name


def test_describe_mentions_exact_truth(env):
    text = env.describe()
    assert "ink_mark" in text and "(spurious, exact)" in text and "(causal, exact)" in text


def test_single_clinic_instance_matches_base_formulas():
    class OneClinic(LabelFlip):
        def build_domains(self):
            return [cb.Domain("base")]

    one = OneClinic()
    assert one.null_prediction == pytest.approx(0.6 * norm.cdf(-1 / np.sqrt(2)) + 0.4 * norm.cdf(-0.5 / np.sqrt(2)),
                                                abs=1e-12)
    x = np.array([0.3])
    post = 0.4 * norm.pdf(x, -1, 1) / (0.4 * norm.pdf(x, -1, 1) + 0.6 * norm.pdf(x, 0, 1))
    expected = (1 - post) * norm.cdf(-1 + x) + post * norm.cdf(0.5 + x)
    np.testing.assert_allclose(one.oracle(np.array([[0.3, 1.0]])), expected, atol=1e-12)
