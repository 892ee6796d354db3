"""The scorer's mechanics: definitions wired as documented, stored predictions, bad input, seed disagreement.

Closed-form known answers for every metric live in `test_known_answers.py`.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import causalbench as cb
from causalbench.scoring import HEADLINE, METRICS, Scores, get_suite, score_predictions, seed_disagreement, suite_inputs
from causalbench.scoring.score import predict_suite
from causalbench.testing import one_line_error

ENV = "IceCreamShorts-v1"


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV)


@pytest.fixture(scope="module")
def suite(env):
    return get_suite(env, seed=0)


def test_every_scores_field_is_documented_and_headline_fields_exist() -> None:
    doc = Scores.__doc__ or ""
    for name in Scores.__dataclass_fields__:
        if name not in ("env_id", "seed", "loss", "fingerprints", "accuracy_id", "accuracy"):
            assert f"`{name}`" in doc or name in METRICS, f"Scores.{name} is not documented"
    assert set(HEADLINE) <= set(Scores.__dataclass_fields__)
    assert {"causal_reliance", "spurious_reliance", "effect_error", "ood_link", "ood_worst", "regret"} <= set(HEADLINE)


def test_aggregates_are_what_they_say(env) -> None:
    f = lambda X: 0.3 * X[:, 0] + 2.0 * X[:, 1]  # noqa: E731
    s = cb.score(f, env, seed=0)
    shifted = [t for t in env.test_set_names() if t != "id"]
    assert s.ood_worst == max(s.excess_risk[t] for t in shifted)
    assert s.ood_mean == pytest.approx(np.mean([s.excess_risk[t] for t in shifted]))
    link = [sh.test_name(v) for sh in env.shifts if sh.kind in ("spurious_break", "spurious_reversal")
            for v in sh.severities]
    assert len(link) == 4 and s.ood_link == pytest.approx(np.mean([s.excess_risk[t] for t in link]))
    for kind in {sh.kind for sh in env.shifts}:
        names = [sh.test_name(v) for sh in env.shifts if sh.kind == kind for v in sh.severities]
        assert s.ood_by_kind[kind] == pytest.approx(np.mean([s.excess_risk[t] for t in names]))
    assert set(s.excess_risk) == set(s.risk) == set(env.test_set_names())  # every test set, none dropped
    total = sum(s.reliance.values())
    assert s.spurious_reliance == pytest.approx(s.reliance["ice_cream"] / total)
    assert s.causal_reliance == pytest.approx(s.reliance["sale_day"] / total)
    assert s.spurious_reliance_abs == pytest.approx(s.reliance["ice_cream"])
    assert s.effect_error == pytest.approx(np.sqrt(np.mean(np.square(list(s.effect_error_by_variable.values())))))
    assert s.regret == s.regret_by_test_set["id"]
    assert s.regret_worst == max(v for t, v in s.regret_by_test_set.items() if t != "id")


def test_excess_risk_is_the_risk_difference_in_expectation(env, suite) -> None:
    """Pointwise excess (f - B)^2 and R(f) - R(B) differ by 2 E[(f - B)(B - Y)], which has mean 0."""
    f = lambda X: 0.3 * X[:, 0] + 2.0 * X[:, 1]  # noqa: E731
    s = cb.score(f, env, seed=0)
    var_y = suite.target_scale ** 2
    for t in env.test_set_names():
        d = f(suite.inputs[t]) - suite.bayes[t]
        cross = 2 * d * (suite.bayes[t] - suite.labels[t])
        se = cross.std() / np.sqrt(len(d)) / var_y
        assert abs((s.risk[t] - s.bayes_risk[t]) / var_y - s.excess_risk[t]) < 5 * se + 1e-12


def test_score_predictions_equals_score(env, suite) -> None:
    f = lambda X: 0.5 * X[:, 0] + X[:, 1]  # noqa: E731
    preds = {k: f(x) for k, x in suite_inputs(env, 0).items()}
    assert score_predictions(preds, env, 0).to_dict() == cb.score(f, env, 0).to_dict()


def test_scores_round_trip_json(env) -> None:
    s = cb.score(lambda X: X[:, 0], env, seed=0)
    back = Scores.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s


def test_binary_target_accepts_predict_proba_and_warns_on_hard_labels() -> None:
    t = cb.make("TreatmentRecovery-v0")
    p = lambda X: 0.3 + 0.4 * X[:, 2]  # noqa: E731
    one = cb.score(p, t, seed=0)
    two = cb.score(lambda X: np.column_stack([1 - p(X), p(X)]), t, seed=0)
    assert one.to_dict() == two.to_dict() and one.loss == "cross_entropy" and 0 < one.accuracy_id < 1
    with pytest.warns(UserWarning, match="hard 0/1 labels"):
        cb.score(lambda X: X[:, 2].copy(), t, seed=0)


def test_torch_tensors_are_accepted() -> None:
    torch = pytest.importorskip("torch")
    env = cb.make(ENV)
    f = lambda X: 0.5 * X[:, 0]  # noqa: E731
    grad = lambda X: torch.tensor(f(X), requires_grad=True) * 1.0  # noqa: E731
    assert cb.score(grad, env, seed=0).to_dict() == cb.score(f, env, seed=0).to_dict()


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


@pytest.mark.parametrize("bad, match", [
    (lambda X: np.zeros((len(X), 3)), "shape"),
    (lambda X: np.zeros(len(X) - 1), "shape"),
    (lambda X: np.full(len(X), np.nan), "NaN"),
    (lambda X: ["a"] * len(X), "numeric"),
])
def test_malformed_predictor_output(env, bad, match) -> None:
    with one_line_error(match):
        cb.score(bad, env, seed=0)


def test_malformed_stored_predictions_name_the_test_set(env, suite) -> None:
    good = {k: np.zeros(len(x)) for k, x in suite.inputs.items()}
    with one_line_error("missing predictions"):
        score_predictions({k: v for k, v in good.items() if k != "heatwave@1"}, env, 0)
    with one_line_error("unknown prediction set"):
        score_predictions({**good, "bogus": np.zeros(3)}, env, 0)
    with one_line_error("test set 'id'"):
        score_predictions({**good, "id": np.zeros(5)}, env, 0)
    with one_line_error("test set 'heatwave@2'"):
        score_predictions({**good, "heatwave@2": np.full(len(good["heatwave@2"]), np.inf)}, env, 0)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predict_suite(lambda X: calls.append(len(X)) or np.zeros(len(X)), suite)
    assert calls == [suite.n_rows]


@pytest.mark.parametrize("env_id", cb.list_envs())
def test_the_suite_covers_every_test_set_the_env_declares(env_id) -> None:
    env = cb.make(env_id)
    suite = get_suite(env, seed=0, n=200)
    assert suite.test_sets == tuple(env.test_set_names())
    assert set(suite.test_sets) <= set(suite.inputs) and set(suite.bayes) == set(suite.test_sets)
    assert set(suite.permutations) == set(env.variables)
    assert {p.variable for p in suite.effects} == set(env.variables)
    assert all(sum(p.baseline for p in suite.effects if p.variable == v) == 1 for v in env.variables)
    if suite.decisions is not None:
        assert set(suite.decisions) == set(suite.test_sets)
    if env.episodic:
        assert suite.policy is not None and set(suite.policy.optimal) == set(suite.test_sets)
    const = cb.score(lambda X: np.full(len(X), env.truth.null), env, seed=0, n=200)
    assert set(const.excess_risk) == set(env.test_set_names())
    assert all(np.isfinite(v) for v in const.excess_risk.values())


def test_large_suites_are_predicted_in_chunks_with_the_same_result(monkeypatch) -> None:
    """Memory stays bounded on big envs: inputs go to `predict` in groups, and the scores do not change."""
    import sys

    score_module = sys.modules["causalbench.scoring.score"]

    env = cb.make("IRMLinear-v0")
    w = np.array([0.3, 0.7])
    calls = []

    def predict(X):
        calls.append(len(X))
        return X @ w

    whole = cb.score(predict, env, seed=0)
    assert len(calls) == 1
    calls.clear()
    monkeypatch.setattr(score_module, "PREDICT_CHUNK_VALUES", 5000)
    chunked = cb.score(predict, env, seed=0)
    assert len(calls) > 10
    assert chunked.to_dict() == whole.to_dict()


@pytest.mark.parametrize("env_id", cb.list_envs())
def test_the_scorer_covers_every_test_set_the_env_declares(env_id) -> None:
    """On every env: one excess risk per declared test set, and every aggregate over exactly its test sets."""
    env = cb.make(env_id)
    s = cb.score(lambda X: np.full(len(X), env.truth.null), env, seed=0)
    declared = env.test_set_names()
    assert list(s.excess_risk) == list(declared) and set(s.risk) == set(declared)
    shifted = [t for t in declared if t != "id"]
    assert len(shifted) >= 6 and s.ood_worst == max(s.excess_risk[t] for t in shifted)
    assert s.ood_mean == pytest.approx(np.mean([s.excess_risk[t] for t in shifted]))
    link = [sh.test_name(v) for sh in env.shifts if sh.breaks_link for v in sh.severities]
    assert link and s.ood_link == pytest.approx(np.mean([s.excess_risk[t] for t in link]))
    assert all(sh.kind in ("spurious_break", "spurious_reversal") for sh in env.shifts if sh.breaks_link)
    for kind in {sh.kind for sh in env.shifts}:
        names = [sh.test_name(v) for sh in env.shifts if sh.kind == kind for v in sh.severities]
        assert s.ood_by_kind[kind] == pytest.approx(np.mean([s.excess_risk[t] for t in names]))
