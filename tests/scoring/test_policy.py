"""`cb.score_policy`: exact returns agree with playing the registered gymnasium envs, on the training
distribution and a shift; SB3-style models and observation -> action functions; one-line errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import causalbench as cb
from causalbench.env.gym_registration import NAMESPACE
from causalbench.errors import ScoringError
from causalbench.scoring import get_suite
from causalbench.testing import one_line_error

ENV_IDS = cb.list_envs()
EPISODIC = [e for e in ENV_IDS if cb.make(e).episodic]
ONE_STEP_DECISION = [e for e in ENV_IDS if not cb.make(e).episodic and cb.make(e).action is not None]
PREDICTION = [e for e in ENV_IDS if not cb.make(e).episodic and cb.make(e).action is None]


class TablePolicy:
    """A memoryless policy over a multi-step env's observation cells, as a batched function."""

    def __init__(self, cells: np.ndarray, actions: np.ndarray) -> None:
        self.index = {tuple(c): int(a) for c, a in zip(np.asarray(cells, dtype=float), actions)}

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return np.array([self.index[tuple(o)] for o in np.asarray(obs, dtype=float)])


def _play(gym_id: str, policy: TablePolicy, test_set: str, episodes: int) -> tuple[float, float]:
    """Mean episode return and its standard error, playing the registered env (TimeLimit included)."""
    g = gym.make(gym_id, test_set=test_set)
    returns = np.empty(episodes)
    for ep in range(episodes):
        obs, _ = g.reset(seed=1000 + ep)
        total, done = 0.0, False
        while not done:
            obs, r, terminated, truncated, _ = g.step(policy(obs[None])[0])
            total, done = total + r, terminated or truncated
        returns[ep] = total
    return float(returns.mean()), float(returns.std(ddof=1) / np.sqrt(episodes))


@pytest.mark.parametrize("env_id", EPISODIC)
def test_multi_step_returns_match_gym_rollouts_on_training_levels_and_the_most_shifted_set(env_id) -> None:
    env = cb.make(env_id)
    cells = env.policy_cells()
    policy = TablePolicy(cells, env.best_policy("id")[0])
    s = cb.score_policy(policy, env)
    assert set(s.returns) == set(env.test_set_names())
    assert s.regret_id == pytest.approx(0.0, abs=1e-12)        # the best memoryless policy on training levels
    shifted = max((t for t in s.returns if t != "id"), key=lambda t: abs(s.returns[t] - s.returns["id"]))
    episodes = 1500 if env.max_episode_steps <= 50 else 150
    for test_set in ("id", shifted):
        mean, se = _play(f"{NAMESPACE}/{env_id}", policy, test_set, episodes)
        # exact value vs a mean of `episodes` independent returns: |z| <= 4 fails ~6e-5 of the time
        assert abs(s.returns[test_set] - mean) <= 4 * se + 1e-9, (test_set, s.returns[test_set], mean, se)


@pytest.mark.parametrize("env_id", ONE_STEP_DECISION)
def test_one_step_returns_match_the_native_vector_env(env_id) -> None:
    """score_policy averages exact expected utilities over the suite's n test contexts; the vector env
    plays N fresh units. Both estimate the same mean: tolerance 4 sd of their difference."""
    env = cb.make(env_id)
    suite = get_suite(env, 0)
    cols = [env.variables.index(c) for c in env.context_variables]
    threshold = float(suite.latents["id"][:, cols[0]].mean())
    top = len(env.action_values) - 1

    def policy(obs: np.ndarray) -> np.ndarray:   # context-dependent: the top action above the mean, else the lowest
        return np.where(obs[:, 0] > threshold, top, 0)

    s = cb.score_policy(policy, env)
    shifted = max((t for t in s.returns if t != "id"), key=lambda t: abs(s.returns[t] - s.returns["id"]))
    units = 20_000
    for t in ("id", shifted):
        venv = gym.make_vec(f"{NAMESPACE}/{env_id}", num_envs=units, vectorization_mode="vector_entry_point",
                            test_set=t)
        obs, _ = venv.reset(seed=7)
        _, rewards, _, _, _ = venv.step(policy(obs))
        box = venv.single_observation_space
        values = suite.decisions[t].values
        chosen = values[np.arange(len(values)), policy(np.clip(suite.latents[t][:, cols].astype(np.float32),
                                                                box.low, box.high))]
        sd = np.sqrt(rewards.var(ddof=1) / units + chosen.var(ddof=1) / len(chosen))
        assert abs(s.returns[t] - rewards.mean()) <= 4 * sd, (t, s.returns[t], rewards.mean(), sd)


def test_models_with_predict_and_functions_score_alike() -> None:
    class Model:   # what stable-baselines3 offers: predict(obs, deterministic=True) -> (actions, state)
        def predict(self, obs: np.ndarray, deterministic: bool = False) -> tuple[np.ndarray, None]:
            assert deterministic and obs.dtype == np.float32 and obs.ndim == 2
            return (obs[:, 2] == 2).astype(np.int64), None

    def follow_the_flag(obs: np.ndarray) -> np.ndarray:
        return (obs[:, 2] == 2).astype(int)

    by_model = cb.score_policy(Model(), f"{NAMESPACE}/GoalMisgen-v0")
    by_function = cb.score_policy(follow_the_flag, "GoalMisgen-v0")
    assert by_model == by_function
    assert by_model.regret["flag_opposite@1"] > 1.0 > 0.1 > by_model.regret_id   # worse than random once the flag lies
    assert by_model.regret_worst == max(v for t, v in by_model.regret.items() if t != "id")
    table = by_model.table().splitlines()
    assert len(table) == 2 + len(by_model.returns) and "flag_opposite@1" in by_model.table()


def test_bad_policies_and_envs_are_one_line_errors() -> None:
    cases = [
        (lambda obs: np.zeros(3, int), "GoalMisgen-v0", "must return one action per row"),
        (lambda obs: np.full(len(obs), 2), "GoalMisgen-v0", "action indices in 0..1"),
        (lambda obs: np.full(len(obs), 0.5), "TreatmentRecovery-v0", "action indices in 0..1"),
        (object(), "GoalMisgen-v0", "observation -> action function"),
        (lambda obs: np.zeros(len(obs), int), cb, "causalbench env or its id"),
        (lambda obs: np.zeros(len(obs), int), PREDICTION[0], "cb.score(predict"),
    ]
    for policy, env, message in cases:
        with one_line_error(message, ScoringError):
            cb.score_policy(policy, env)
