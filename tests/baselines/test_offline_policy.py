"""offline-policy: the per-action outcome model fitted on logged data inherits the confounding."""

from __future__ import annotations

import numpy as np
import pytest

import causalbench as cb
from causalbench.baselines.offline_policy import OfflinePolicy, nearest_action
from causalbench.methods import make_task, method_spec

N = 5000


def fitted(env_id: str, seed: int = 0) -> tuple[OfflinePolicy, cb.Dataset]:
    env = cb.make(env_id)
    data = env.dataset("observational", n=N, seed=seed)
    method = method_spec("offline-policy").build(make_task(env, "observational"), seed=seed)
    return method.fit(data), data


@pytest.mark.parametrize("env_id", ["IRMLinear-v0", "Asia-v0", "IceCreamHD-v1"])
def test_not_applicable_outside_decision_tasks(env_id: str) -> None:
    reason = OfflinePolicy.applicable(make_task(cb.make(env_id), "observational"))
    assert isinstance(reason, str) and env_id in reason


def test_logged_actions_go_to_the_nearest_grid_value() -> None:
    values = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    assert nearest_action(np.array([-9.0, -1.5, -0.49, 0.5, 2.51, 7.0]), values).tolist() == [0, 0, 2, 2, 5, 5]
    method, data = fitted("IceCreamShorts-v0")
    assert method.counts_.tolist() == np.bincount(nearest_action(data.X[:, 0], values), minlength=6).tolist()


def test_saturated_model_recovers_the_logged_cell_means() -> None:
    # One binary context (sale_day) + intercept is a saturated model per action: with a tiny ridge
    # its predictions are the logged mean of shorts in each (action bin, sale_day) cell.
    method, data = fitted("IceCreamShorts-v0")
    task, values = method.task, np.array(method.task.action_values)
    arm = nearest_action(data.X[:, 0], values)
    for k, a in enumerate(values):
        for w in (0.0, 1.0):
            cell = (arm == k) & (data.X[:, 1] == w)
            pred = method.predict(task.assemble(np.array([[w]]), np.array([a])))[0]
            assert abs(pred - data.y[cell].mean()) < 1e-3 * data.y.std()


def test_treatment_looks_harmful_in_the_records() -> None:
    """Simpson's reversal: the model says treatment lowers recovery although it raises it by ~0.15."""
    env = cb.make("TreatmentRecovery-v0")
    method, data = fitted("TreatmentRecovery-v0")
    task = method.task
    ctx = data.X[:, [task.feature_names.index(c) for c in task.context]]
    p1 = method.predict(task.assemble(ctx, np.ones(len(ctx))))
    p0 = method.predict(task.assemble(ctx, np.zeros(len(ctx))))
    true_ate = float(np.diff(env.truth.true_effect("treated", [0.0, 1.0]))[0])
    assert true_ate > 0.1
    # se of the estimated ATE ~ 0.5 * sqrt(2 / (N/2)) ~ 0.014; found ~ -0.06 (population value, 10 seeds).
    assert np.mean(p1 - p0) < 0
    assert np.all(p1 < p0), "the model should withhold treatment in every context"
    scores = cb.score(method.predict, env, seed=0)
    never_treat = cb.score_policy(lambda c: np.zeros(len(c), int), env, seed=0)
    assert scores.regret == pytest.approx(never_treat.regret_id) == pytest.approx(2.0)  # treating is always optimal


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pushing_ice_cream_looks_profitable() -> None:
    """IceCreamShorts-v0's decision (set ice-cream sales): logged ice-cream sales track the hidden temperature,
    so the model thinks pushing them sells shorts."""
    env = cb.make("IceCreamShorts-v0")
    method, _ = fitted("IceCreamShorts-v0")
    task = method.task
    ctx = np.array([[0.0], [1.0]])
    lift = method.predict(task.assemble(ctx, np.full(2, 3.0))) - method.predict(task.assemble(ctx, np.full(2, -2.0)))
    assert np.all(lift > 1.0), lift  # truth: 0; the promotion costs 0.2 * 5 = 1.0, and the model believes in > 1.0
    scores = cb.score(method.predict, env, seed=0)
    always_push = cb.score_policy(lambda c: np.full(len(c), 5), env, seed=0).regret_id   # a = 3, the dearest
    # Shorts do not depend on ice cream: pushing loses 0.2 * 5, a random push 0.2 * 2.5 on average.
    assert always_push == pytest.approx(2.0, abs=1e-12)
    assert scores.regret == pytest.approx(always_push, abs=1e-12)
    assert scores.effect_error_by_variable["ice_cream"] > 0.4  # found 0.65 sd(Y)
