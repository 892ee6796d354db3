"""Gymnasium tasks served from batches: the observation and reward laws are the SCM's, per sub-env; seeding.

Laws are checked against exact values (enumeration of the discrete SCM, or the closed-form variance of
IRMLinear's mixture), with tolerances of 5 standard errors at the sample size used (fixed seeds).
"""

from __future__ import annotations

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest

import causalbench as cb
from causalbench.env.episodes import FIRST_BATCH
from causalbench.env.gym import CausalDecisionEnv, CausalDecisionVectorEnv, CausalPredictionVectorEnv
from causalbench.scm import exact


def _context_law(env: cb.CausalEnv) -> dict[tuple, float]:
    """Exact P(context cell) under the training mixture (uniform over domains), by enumeration."""
    law: dict[tuple, float] = {}
    ctx = env.context_variables
    for scm in env.domain_scms:
        keep = set(ctx).union(*(nx.ancestors(scm.graph, v) for v in ctx))
        names, states, probs = exact.discrete_joint(scm, [v for v in scm.order if v in keep])
        cols = [names.index(c) for c in ctx]
        for row, p in zip(states[:, cols], probs):
            law[tuple(row)] = law.get(tuple(row), 0.0) + p / len(env.domain_scms)
    return law


def _rollout(venv: gym.vector.VectorEnv, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(observations, actions, rewards), each (steps, num_envs, ...), uniformly random actions."""
    obs, _ = venv.reset(seed=seed)
    venv.action_space.seed(seed)
    O, A, R = [], [], []
    for _ in range(steps):
        a = venv.action_space.sample()
        nxt, r, *_ = venv.step(a)
        O.append(obs), A.append(np.asarray(a)), R.append(r)
        obs = nxt
    return np.array(O), np.array(A), np.array(R)


def test_decision_vector_env_laws_are_exact() -> None:
    """Context frequencies and mean reward per (context, action) match exact enumeration (TreatmentRecovery)."""
    env = cb.make("TreatmentRecovery-v0")
    venv = CausalDecisionVectorEnv("TreatmentRecovery-v0", num_envs=512)
    O, A, R = _rollout(venv, 200, seed=1)
    O, A, R = O.reshape(-1, O.shape[-1]), A.reshape(-1), R.reshape(-1)
    n = len(R)
    law = _context_law(env)
    cells = [tuple(c) for c in O]
    for cell, p in law.items():
        freq = np.mean([c == cell for c in cells])
        assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12, (cell, freq, p)
    truth = env.truth.decision_values(np.array(list(law)))
    for i, cell in enumerate(law):
        hit = np.array([c == cell for c in cells])
        for a in range(truth.shape[1]):
            r = R[hit & (A == a)]
            se = max(r.std(), 1e-3) / np.sqrt(len(r))
            assert abs(r.mean() - truth[i, a]) < 5 * se + 1e-9, (cell, a, r.mean(), truth[i, a])


def test_every_sub_env_sees_the_mixture_law() -> None:
    """IRMLinear: x1 ~ N(0, s^2), s in {0.5, 2} by domain, so Var(x1) = (0.25 + 4) / 2 in *each* sub-env
    (domains are drawn per unit, not assigned by sub-env index)."""
    venv = CausalPredictionVectorEnv("IRMLinear-v0", num_envs=8)
    obs = [venv.reset(seed=2)[0]]
    venv.action_space.seed(2)
    for _ in range(3999):
        obs.append(venv.step(venv.action_space.sample())[0])
    x1 = np.array(obs)[:, :, 0]  # (steps, sub-env)
    m = x1.shape[0]
    var, kurt_var = 2.125, (3 * (0.5**4 + 2**4) / 2 - 2.125**2)  # Var(x1^2) of the mixture
    for i in range(8):
        assert abs(np.mean(x1[:, i] ** 2) - var) < 5 * np.sqrt(kurt_var / m), i


def test_single_env_serves_the_same_law_and_is_seed_deterministic() -> None:
    env = cb.make("TreatmentRecovery-v0")
    g = CausalDecisionEnv("TreatmentRecovery-v0")
    law = _context_law(env)
    obs = [tuple(g.reset(seed=5)[0])]
    obs += [tuple(g.reset()[0]) for _ in range(19_999)]
    for cell, p in law.items():
        freq = np.mean([o == cell for o in obs])
        assert abs(freq - p) < 5 * np.sqrt(p * (1 - p) / len(obs)), (cell, freq, p)
    again = [tuple(g.reset(seed=5)[0])] + [tuple(g.reset()[0]) for _ in range(FIRST_BATCH * 3)]
    assert again == obs[:len(again)]


def test_privileged_potential_rewards_contain_the_reward() -> None:
    g = CausalDecisionEnv("TreatmentRecovery-v0", privileged_info=True)
    g.reset(seed=0)
    for t in range(50):
        a = t % 2
        _, r, term, _, info = g.step(a)
        assert term and info["potential_rewards"][a] == r
        g.reset()


def test_vector_seeds_every_sub_env_seed_counts() -> None:
    venv = CausalDecisionVectorEnv("IceCreamShorts-v1", num_envs=16)
    seeds = list(range(100, 116))
    a, _ = venv.reset(seed=seeds)
    b, _ = venv.reset(seed=seeds)
    c, _ = venv.reset(seed=seeds[:-1] + [999])     # only the last sub-env's seed differs
    d, _ = venv.reset(seed=100)                     # gymnasium convention: seed s means s, s+1, ...
    assert np.array_equal(a, b) and np.array_equal(a, d) and not np.array_equal(a, c)
    with pytest.raises(gym.error.Error):
        venv.reset(seed=[1, 2])


def test_vector_steps_are_deterministic_and_reject_bad_actions() -> None:
    runs = [_rollout(CausalDecisionVectorEnv("IceCreamShorts-v1", num_envs=64), 40, seed=7) for _ in range(2)]
    for x, y in zip(*runs):
        assert np.array_equal(x, y)
    venv = CausalDecisionVectorEnv("IceCreamShorts-v1", num_envs=4)
    venv.reset(seed=0)
    with pytest.raises(gym.error.InvalidAction):
        venv.step(np.array([0, 1, 2, 6]))
