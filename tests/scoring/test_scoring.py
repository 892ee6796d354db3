"""The scorer against known answers: oracle, null, spurious-only, OLS, seed disagreement, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import causalbench as cb
from causalbench.scoring import Scores, get_suite, score_predictions, seed_disagreement, suite_inputs
from causalbench.scoring.score import predict_suite, regret
from causalbench.testing import one_line_error

ENV = "IceCreamShorts-v0"
A, B, C, P_W = 2.0, 1.5, 2.0, 2 / 7


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV)


@pytest.fixture(scope="module")
def suite(env):
    return get_suite(env, seed=0)


def effect_tolerance(suite, sd_of_f: float) -> float:
    """5 standard errors of a probe's mean prediction, in units of sd(Y)."""
    n = min(len(suite.inputs[p.input]) for p in suite.effects)
    return 5 * sd_of_f / np.sqrt(n) / suite.target_scale


def test_oracle_scores_zero(env, suite) -> None:
    s = cb.score(env.oracle, env, seed=0)
    assert s.ood_score == 0.0 and s.spurious_reliance == 0.0 and s.causal_reliance == 1.0
    # The oracle 2W averages 2 W over do()-samples: sd(f) = 2 sd(W).
    assert s.effect_error < effect_tolerance(suite, 2 * np.sqrt(P_W * (1 - P_W)))
    assert s.regret == 0.0


def test_null_scores_one_with_undefined_reliance(env) -> None:
    s = cb.score(lambda X: np.full(len(X), env.null_prediction), env, seed=0)
    assert abs(s.ood_score - 1.0) < 1e-12
    assert s.reliance_defined is False and s.spurious_reliance == 0.0 and s.causal_reliance == 0.0
    assert not any(np.isnan(v) for v in s.reliance.values())


def test_spurious_only_and_causal_only(env, suite) -> None:
    spur = cb.score(lambda X: 0.6 * X[:, 0], env, seed=0)
    assert spur.spurious_reliance == 1.0 and spur.causal_reliance == 0.0
    assert spur.effect_error > 5 * effect_tolerance(suite, 0.6 * 3)
    caus = cb.score(lambda X: 5.0 * X[:, 1], env, seed=0)
    assert caus.causal_reliance == 1.0 and caus.spurious_reliance == 0.0


def test_ols_between_oracle_and_spurious_only_with_closed_form_effect_error(env, suite) -> None:
    train = env.dataset("observational", n=200_000, seed=0)
    Z = np.column_stack([train.X, np.ones(train.n)])
    w, *_ = np.linalg.lstsq(Z, train.y, rcond=None)
    s = cb.score(lambda X: X @ w[:2] + w[2], env, seed=0)
    spur = cb.score(lambda X: w[0] * X[:, 0], env, seed=0)
    assert 0.3 < s.spurious_reliance < spur.spurious_reliance == 1.0
    assert 0.0 < s.effect_error < spur.effect_error
    # Closed form (DESIGN known answer over the climate mixture, Var T = 1.25): slope on ice cream
    # beta = a b 1.25 / (a^2 1.25 + 1), on sale_day c, intercept 0. Under do(I = a) the mean prediction
    # errs by beta a; under do(W = w) by beta E[I] = 0. effect_error = RMS over the 7 probes / sd(S).
    beta = A * B * 1.25 / (A * A * 1.25 + 1)
    grid_i = np.array(env.effect_grid("ice_cream"))
    errs = np.concatenate([beta * grid_i, np.zeros(2)])
    closed = np.sqrt(np.mean(errs**2)) / suite.target_scale
    # Tolerance: estimation error of w (n = 200k) plus probe sampling noise (|RMS(e) - RMS(e')| <= max|e - e'|).
    tol = effect_tolerance(suite, beta * np.sqrt(A * A * 1.25 + 1) + C * 0.5) + 0.01
    assert abs(s.effect_error - closed) < tol
    # Greedy decisions: the model believes pushing ice cream sells shorts (beta > 0.2), so it pushes a = 3 while
    # the best action is a = -2: regret = 0.2 * 5 exactly (shorts do not respond to do(ice_cream)).
    assert abs(s.regret - 1.0) < 1e-9


def test_ood_score_definition(env) -> None:
    f = lambda X: 0.3 * X[:, 0] + 2.0 * X[:, 1]  # noqa: E731
    s = cb.score(f, env, seed=0)
    for k, v in s.ood.items():
        expected = (s.risk[k] - s.oracle_risk[k]) / (s.null_risk[k] - s.oracle_risk[k])
        assert v == pytest.approx(expected)
    assert s.ood_score == pytest.approx(np.mean(list(s.ood.values())))
    assert s.risk_worst == max(s.risk.values())


def test_score_predictions_equals_score(env, suite) -> None:
    f = lambda X: 0.5 * X[:, 0] + X[:, 1]  # noqa: E731
    preds = {k: f(x) for k, x in suite_inputs(env, 0).items()}
    assert score_predictions(preds, env, 0).to_dict() == cb.score(f, env, 0).to_dict()


def test_scores_round_trip_json(env) -> None:
    s = cb.score(lambda X: X[:, 0], env, seed=0)
    back = Scores.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s


def test_binary_target_scores(env) -> None:
    t = cb.make("TreatmentRecovery-v0")
    s = cb.score(t.oracle, t, seed=0)
    assert s.loss == "cross_entropy" and s.accuracy_id is not None and 0.5 < s.accuracy_id < 1
    assert s.spurious_reliance == 0.0


def test_seed_disagreement(env, suite) -> None:
    base = {k: 0.5 * x[:, 0] for k, x in suite.inputs.items()}
    assert seed_disagreement([base, dict(base)], env, 0) == 0.0
    sigma = 0.7
    noisy = []
    for i in range(3):
        gen = np.random.default_rng(i)
        noisy.append({k: v + gen.normal(0, sigma, len(v)) for k, v in base.items()})
    value = seed_disagreement(noisy, env, 0)
    expected = 2 * sigma**2 / suite.target_scale**2
    n_rows = sum(len(suite.labels[k]) for k in suite.test_sets if k != "id")
    se = expected * np.sqrt(2 / n_rows)  # Var((e_a - e_b)^2) = 2 (2 sigma^2)^2
    assert abs(value - expected) < 5 * se


def test_policy_regret(env) -> None:
    assert regret(lambda ctx: np.full(len(ctx), -2.0), env) == 0.0
    assert abs(regret(lambda ctx: np.full(len(ctx), 3.0), env) - 1.0) < 1e-9


@pytest.mark.parametrize("bad, match", [
    (lambda X: np.zeros((len(X), 2)), "shape"),
    (lambda X: np.zeros(len(X) - 1), "shape"),
    (lambda X: np.full(len(X), np.nan), "NaN"),
    (lambda X: ["a"] * len(X), "not numeric"),
])
def test_malformed_predictor_output(env, bad, match) -> None:
    with one_line_error(match):
        cb.score(bad, env, seed=0)


def test_malformed_stored_predictions(env, suite) -> None:
    good = {k: np.zeros(len(x)) for k, x in suite.inputs.items()}
    with one_line_error("missing predictions"):
        score_predictions({k: v for k, v in good.items() if k != "heatwave@1"}, env, 0)
    with one_line_error("unknown prediction set"):
        score_predictions({**good, "bogus": np.zeros(3)}, env, 0)
    with one_line_error("have shape"):
        score_predictions({**good, "id": np.zeros(5)}, env, 0)
    with one_line_error("NaN or inf"):
        score_predictions({**good, "id": np.full(len(good["id"]), np.inf)}, env, 0)
    with one_line_error("must map"):
        score_predictions([1, 2], env, 0)
    with one_line_error("probabilities"):
        t = cb.make("TreatmentRecovery-v0")
        score_predictions({k: np.full(len(x), 2.0) for k, x in suite_inputs(t, 0).items()}, t, 0)


def test_unknown_env_and_bad_seed() -> None:
    with one_line_error("unknown environment"):
        cb.score(lambda X: X[:, 0], "NoSuchEnv-v0")
    with one_line_error("seed"):
        cb.score(lambda X: X[:, 0], ENV, seed=-3)
    with one_line_error("callable"):
        cb.score("not a function", ENV)


def test_predict_is_called_once(env, suite) -> None:
    calls = []
    predict_suite(lambda X: calls.append(len(X)) or np.zeros(len(X)), suite)
    assert calls == [suite.n_rows]


def test_multi_step_policy_regret_from_predictions() -> None:
    """Copycat: the scorer rolls out a predictor's greedy policy over every observation cell."""
    env = cb.make("Copycat-v0")
    cells = env.policy_inputs()
    always_drive = env.policy_regret(np.zeros(len(cells), np.int64), 0)
    oracle = cb.score(env.oracle, env, seed=0).regret
    assert always_drive > 50 > oracle > 0
    assert oracle == env.policy_regret((env.oracle(cells) > 0.5).astype(np.int64), 0)
    assert cb.score(env.oracle, env, seed=0).regret == oracle  # deterministic in the seed
