"""LabelFlip-v0: closed-form ground truth against integration and sampling; the ink-mark shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

import causalbench as cb
from causalbench.envs.label_flip import CLINICS, INK, LabelFlip, prob_melanoma, prob_melanoma_given_sun

ENV_ID = "LabelFlip-v0"
N_MC = 200_000
# Documented in the env's "Known answers" (training mixture of the two clinics).
PRIOR = 0.2885847586
DO_SUN = {0.0: 0.3717781369, 1.0: 0.6732771195}
REGRESSION = {0.0: 0.3120657469, 1.0: 0.5560946473}   # P(Y = 1 | X = x)


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV_ID)


def _p_fair(scm) -> float:
    return scm.mechanism("fair_skin").p


def test_structure(env):
    assert env.target == "melanoma" and env.target_kind == "binary"
    assert env.scm.hidden == ("fair_skin",)
    assert env.roles == {"sun_exposure": "causal", "ink_mark": "anti-causal"}
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
    np.testing.assert_allclose(env.truth.true_effect("sun_exposure", xs), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(env.truth.true_effect("sun_exposure", [0.0, 1.0]), [DO_SUN[0.0], DO_SUN[1.0]], atol=1e-9)
    np.testing.assert_allclose(env.truth.true_effect("ink_mark", [0.0, 1.0]), [PRIOR, PRIOR], atol=1e-9)


@pytest.mark.parametrize("variable, value", [("sun_exposure", 0.0), ("sun_exposure", 1.0),
                                             ("ink_mark", 0.0), ("ink_mark", 1.0)])
def test_true_effect_matches_sampling(env, variable, value):
    """Each clinic sampled under do(); the mixture truth is the average of the clinic means."""
    means = [scm.sample(N_MC // 2, seed=5, do={variable: value})["melanoma"].mean() for scm in env.domain_scms]
    truth = float(env.truth.true_effect(variable, [value])[0])
    se = np.sqrt(truth * (1 - truth) / N_MC)
    assert abs(np.mean(means) - truth) < 5 * se


def regression(env, V):
    """P(Y = 1 | X = x) over the training clinics (the closed form the env documents)."""
    return prob_melanoma_given_sun(env.domain_scms, np.asarray(V)[:, 0])


def test_regression_on_sun_is_bayes_over_clinics_and_skin_type(env):
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
    np.testing.assert_allclose(regression(env, V), num / den, rtol=0, atol=1e-12)
    np.testing.assert_allclose(regression(env, np.array([[0.0, 0], [1.0, 0]])), [REGRESSION[0.0], REGRESSION[1.0]],
                               atol=1e-9)


def test_bayes_with_the_mark_is_bayes_over_clinic_skin_type_and_label(env):
    """P(Y = 1 | X = x, W = w) = sum_du P_d(u) N(x; -u, 1) Phi_u(x) P_d(w | 1) / (the same over y in {0, 1})."""
    xs = np.linspace(-2, 2, 9)
    for w in (0.0, 1.0):
        num, den = np.zeros_like(xs), np.zeros_like(xs)
        for (_, (p_fair, p_mark)), scm in zip(CLINICS.items(), env.domain_scms):
            mark = {1: p_mark if w else 1 - p_mark, 0: INK[0] if w else 1 - INK[0]}
            for u, pu in ((0, 1 - p_fair), (1, p_fair)):
                p1 = norm.cdf(-1 + xs + 1.5 * u)
                num += pu * norm.pdf(xs, -u, 1) * p1 * mark[1]
                den += pu * norm.pdf(xs, -u, 1) * (p1 * mark[1] + (1 - p1) * mark[0])
        V = np.column_stack([xs, np.full_like(xs, w)])
        np.testing.assert_allclose(env.truth.bayes(V, "id"), num / den, rtol=0, atol=1e-12)


def test_regression_on_sun_is_calibrated_on_training_data(env):
    """Within each decile of X, mean(Y - P(Y | X)) is zero up to 5 standard errors."""
    data = env.dataset("observational", n=N_MC, seed=7)
    resid = data.y - regression(env, data.X)
    x = data.X[:, 0]
    edges = np.quantile(x, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 9)
    for b in range(10):
        r = resid[bins == b]
        assert abs(r.mean()) < 5 * r.std() / np.sqrt(len(r)), b


def test_confounding_flattens_the_observational_curve(env):
    """Sun-seekers are rarely fair-skinned, so P(Y | X = x) < P(Y | do(X = x)) at these x."""
    xs = [0.0, 1.0, 2.0]
    assert np.all(regression(env, np.column_stack([xs, np.zeros(3)])) < env.truth.true_effect("sun_exposure", xs) - 0.04)


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
    ref = cb.score(env.truth.causal_reference, env)
    assert lr.spurious_reliance > 0.7
    assert ref.spurious_reliance == 0.0 and ref.causal_reliance == 1.0
    assert lr.accuracy_id > 0.88 and lr.accuracy_id > ref.accuracy_id + 0.1
    assert lr.accuracy["ink_flipped@1"] < 0.3 < ref.accuracy["ink_flipped@1"] - 0.4
    assert lr.excess_risk["ink_flipped@1"] > 1.0           # far from that clinic's Bayes predictor
    assert lr.excess_risk["ink_unreliable@1"] > 0.3 > ref.excess_risk["ink_unreliable@1"]
    for name in ("ink_unreliable@1", "ink_flipped@0.75", "ink_flipped@1"):
        assert abs(ref.accuracy[name] - ref.accuracy_id) < 0.03, name


def test_describe_mentions_exact_truth(env):
    text = env.describe()
    assert "ink_mark" in text and "(anti-causal, exact)" in text and "(causal, exact)" in text


def test_single_clinic_instance_matches_base_formulas():
    class OneClinic(LabelFlip):
        def build_domains(self):
            return [cb.Domain("base")]

    one = OneClinic()
    assert one.truth.null == pytest.approx(0.6 * norm.cdf(-1 / np.sqrt(2)) + 0.4 * norm.cdf(-0.5 / np.sqrt(2)),
                                                abs=1e-12)
    x = np.array([0.3])
    post = 0.4 * norm.pdf(x, -1, 1) / (0.4 * norm.pdf(x, -1, 1) + 0.6 * norm.pdf(x, 0, 1))
    expected = (1 - post) * norm.cdf(-1 + x) + post * norm.cdf(0.5 + x)
    np.testing.assert_allclose(prob_melanoma_given_sun(one.domain_scms, x), expected, atol=1e-12)
