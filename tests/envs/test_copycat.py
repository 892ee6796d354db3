"""Copycat-v0: the SCM is the gym's one-step stationary law; cloning leans on the light and crashes online."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import causalbench as cb
from causalbench.envs.copycat_world import (BRAKE, CLEAR, CLOSE, DOMAIN_TRAFFIC, DRIVE, HORIZON, SHIFT_TRAFFIC,
                                            CopycatGymEnv, expert_action, stationary, traffic, transition_table)
from causalbench.scm import exact
from causalbench.scm.conditional import conditional_mean_fn

ENV_ID = "Copycat-v0"
SCENES = list(itertools.product(range(3), range(2)))   # (distance, stopped)
CELLS = list(itertools.product(range(3), range(2), range(2)))   # (distance, light, brake)
# Documented in the env's "Known answers" (training mixture of city and highway).
PRIOR, REGRESSION_CLOSE, DO_CLOSE = 0.2241847826, 0.7021276596, 0.2527173913


@pytest.fixture(scope="module")
def env():
    return cb.make(ENV_ID)


@pytest.fixture(scope="module")
def clone(env):
    """Behavioural cloning: logistic regression of the expert's action on (distance, light)."""
    from sklearn.linear_model import LogisticRegression

    data = env.dataset("observational", n=20_000, seed=0)
    return LogisticRegression().fit(data.X, data.y)


def _all_traffic() -> dict:
    names = list(DOMAIN_TRAFFIC) + [f"{s}@{v:g}" for s, (_, sevs, _, _) in SHIFT_TRAFFIC.items() for v in sevs]
    return {name: traffic(name) for name in names}


def _expert_chain(t) -> np.ndarray:
    """Scene-to-scene transition matrix (6 x 6) when the expert drives."""
    P = transition_table(t)
    return np.array([P[d, s, expert_action(d, s)].ravel() for d, s in SCENES])


def _exact_cells(scm) -> np.ndarray:
    """P(distance, light, brake) by enumeration of the SCM, as a (3, 2, 2) array."""
    names, states, probs = exact.discrete_joint(scm)
    idx = [names.index(v) for v in ("distance", "light", "brake")]
    out = np.zeros((3, 2, 2))
    np.add.at(out, tuple(states[:, j].astype(int) for j in idx), probs)
    return out


def _episode_cells(obs: np.ndarray, act: np.ndarray, episode: np.ndarray, n: int) -> np.ndarray:
    """Per-episode frequencies of the (distance, light, brake) cells: (n_episodes, 12)."""
    cell = (obs[:, 0].astype(int) * 2 + obs[:, 1].astype(int)) * 2 + act
    counts = np.zeros((n, 12))
    np.add.at(counts, (episode, cell), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def _assert_matches(freq: np.ndarray, truth: np.ndarray) -> None:
    """Episodes are i.i.d. and start stationary, so each episode's cell frequency is unbiased: 5 SE."""
    mean, se = freq.mean(axis=0), freq.std(axis=0, ddof=1) / np.sqrt(len(freq))
    assert np.all(np.abs(mean - truth.ravel()) <= 5 * se + 1e-12), (mean.round(4), truth.ravel().round(4))


def _run(policy, episodes: int, seed: int, **options) -> tuple[np.ndarray, int]:
    """Closed-loop returns of policy(gym_env, obs) -> action in the gym env, and the number of crashes."""
    g = CopycatGymEnv(**options)
    returns, crashes = [], 0
    for ep in range(episodes):
        obs, _ = g.reset(seed=seed + ep)
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, info = g.step(policy(g, obs))
            total, done, crashes = total + r, term or trunc, crashes + int(info["collision"])
        returns.append(total)
    return np.array(returns), crashes


# ---------------------------------------------------------------- gym API


@pytest.mark.filterwarnings("ignore:.*not having a spec")
@pytest.mark.parametrize("options", [{}, {"test_set": "highway", "light": "inverted"},
                                     {"test_set": "light_burnt_out@1", "render_mode": "ansi"}])
def test_gym_checker(options) -> None:
    check_env(CopycatGymEnv(**options))


def test_gym_determinism_and_episode_end() -> None:
    def rollout(seed: int) -> list:
        g = CopycatGymEnv()
        g.action_space.seed(seed)
        obs, _ = g.reset(seed=seed)
        out = [obs.tolist()]
        for _ in range(300):
            obs, r, term, trunc, _ = g.step(g.action_space.sample())
            out.append((obs.tolist(), r, term, trunc))
            if term or trunc:
                break
        return out

    assert rollout(5) == rollout(5) and rollout(5) != rollout(6)
    # The expert is never terminated and is truncated exactly at the horizon.
    g = CopycatGymEnv()
    g.reset(seed=0)
    ends = [g.step(g.expert_action())[2:4] for _ in range(HORIZON)]
    assert ends[-1] == (False, True) and not any(any(e) for e in ends[:-1])


def test_collision_and_rewards() -> None:
    g = CopycatGymEnv()
    g.reset(seed=0)
    g._d, g._s = np.array([CLOSE]), np.array([1])
    obs, r, term, trunc, info = g.step(DRIVE)
    assert (r, term, trunc, info["collision"]) == (-100.0, True, False, True)
    g._d, g._s = np.array([CLEAR]), np.array([0])
    assert g.step(BRAKE)[1] == -0.1 and g._light[0] == 1   # the light shows the action just taken
    assert g.step(DRIVE)[1] == 1.0 and g._light[0] == 0


def test_demonstrations_are_deterministic(env) -> None:
    a, b = env.demonstrations(20, seed=3), env.demonstrations(20, seed=3)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["observations"], env.demonstrations(20, seed=4)["observations"])
    assert len(a["actions"]) == 20 * HORIZON and not a["terminations"].any()
    assert a["truncations"].sum() == 20 and np.array_equal(np.bincount(a["domains"]), [10 * HORIZON] * 2)
    assert np.array_equal(a["rewards"], np.where(a["actions"] == DRIVE, 1.0, 0.0))
    same_episode = a["episode_ids"][1:] == a["episode_ids"][:-1]
    assert np.array_equal(a["next_observations"][:-1][same_episode], a["observations"][1:][same_episode])


# ---------------------------------------------------------------- ground truth


def test_transition_table_and_closed_form_stationary_law() -> None:
    for name, t in _all_traffic().items():
        P = transition_table(t)
        assert np.all(P >= 0) and np.allclose(P.sum(axis=(3, 4)), 1.0, atol=1e-12), name
        mu, chain = stationary(t).ravel(), _expert_chain(t)
        assert np.allclose(mu @ chain, mu, atol=1e-12), name
        assert mu[SCENES.index((CLEAR, 1))] == 0 and chain[SCENES.index((CLOSE, 1)), SCENES.index((CLOSE, 1))] == t.persistence


def test_scm_is_one_step_of_the_dynamics(env) -> None:
    """Per domain: slice t-1 has the stationary law, slice t | t-1 follows the transition table,
    the light copies the previous action, and slice t is stationary again."""
    for (name, t), scm in zip(DOMAIN_TRAFFIC.items(), env.domain_scms):
        names, states, probs = exact.discrete_joint(scm)
        col = {v: states[:, names.index(v)].astype(int) for v in names}
        prev = np.zeros((3, 2))
        np.add.at(prev, (col["prev_distance"], col["prev_stopped"]), probs)
        now = np.zeros((3, 2))
        np.add.at(now, (col["distance"], col["stopped"]), probs)
        assert np.allclose(prev, stationary(t), atol=1e-12) and np.allclose(now, stationary(t), atol=1e-12), name
        P, joint = transition_table(t), np.zeros((3, 2, 3, 2))
        np.add.at(joint, (col["prev_distance"], col["prev_stopped"], col["distance"], col["stopped"]), probs)
        for d, s in SCENES:
            if prev[d, s] > 0:
                assert np.allclose(joint[d, s] / prev[d, s], P[d, s, expert_action(d, s)], atol=1e-12), (name, d, s)
        assert np.all((col["light"] == col["prev_brake"]) | (probs == 0))
        assert np.all((col["brake"] == expert_action(col["distance"], col["stopped"])) | (probs == 0))


def test_known_answers_closed_form(env) -> None:
    per_domain = []
    for t, scm in zip(DOMAIN_TRAFFIC.values(), env.domain_scms):
        r, tau = t.persistence, t.turn_off
        fn = conditional_mean_fn([(1.0, scm)], "brake", ["distance", "light"])
        got = fn(np.array([[CLOSE, 0], [CLOSE, 1], [1, 0], [CLEAR, 0]], dtype=float))
        assert np.allclose(got, [r * tau, r, 0, 0], atol=1e-12)
        close = conditional_mean_fn([(1.0, scm)], "brake", ["distance"])(np.array([[0.0]]))[0]
        assert np.isclose(close, r * tau / (r * tau + 1 - r), atol=1e-12)
        mu = stationary(t)
        per_domain.append((mu[CLOSE, 1], mu[CLOSE].sum(), mu[:, 1].sum()))
    brake, close, stopped = (np.array(x) for x in zip(*per_domain))
    assert np.isclose(env.null_prediction, brake.mean()) and np.isclose(env.null_prediction, PRIOR)
    regression = conditional_mean_fn([(0.5, s) for s in env.domain_scms], "brake", ["distance"])
    got = regression(np.array([[0.0], [1.0], [2.0]]))
    assert np.allclose(got, [brake.sum() / close.sum(), 0, 0]) and np.isclose(got[0], REGRESSION_CLOSE)
    assert np.allclose(env.truth.true_effect("distance", [0, 1, 2]), [stopped.mean(), 0, 0])
    assert np.isclose(stopped.mean(), DO_CLOSE)
    assert np.allclose(env.truth.true_effect("light", [0, 1]), [PRIOR, PRIOR])
    # The causal reference E[A | do(D, L)] = P(S = 1) 1[D = close]: right about do(D), not the regression.
    ref = env.truth.causal_reference(np.array([[0, 0], [0, 1], [1, 0], [2, 1]], dtype=float))
    assert np.allclose(ref, [DO_CLOSE, DO_CLOSE, 0, 0])


# ---------------------------------------------------------------- gym law = SCM law


@pytest.mark.parametrize("name", ["city", "highway", "light_inverted@0.75", "light_burnt_out@0.5",
                                  "stop_persistence@0.97", "traffic_density@0.6"])
def test_demonstrations_have_the_scm_law(env, name) -> None:
    n = 1000
    demo = env.demonstrations(n, seed=11, test_set=name)
    freq = _episode_cells(demo["observations"], demo["actions"], demo["episode_ids"], n)
    if name in DOMAIN_TRAFFIC:
        scm = env.domain_scms[list(DOMAIN_TRAFFIC).index(name)]
    else:
        scm = env.test_sample(name, seed=0, n=1)[1]
    truth = _exact_cells(scm).ravel()
    _assert_matches(freq, truth)
    # Every step has the law, the first included (episodes start stationary): multinomial 5 SE at t = 0.
    first = demo["timesteps"] == 0
    cell = (demo["observations"][first] @ [4, 2]).astype(int) + demo["actions"][first]
    freq0 = np.bincount(cell, minlength=12) / n
    assert np.all(np.abs(freq0 - truth) <= 5 * np.sqrt(truth * (1 - truth) / n) + 1e-12), (freq0, truth)


def test_single_gym_env_expert_has_the_scm_law(env) -> None:
    n = 40
    obs, act, episode = [], [], []
    g = CopycatGymEnv(test_set="city")
    for ep in range(n):
        o, _ = g.reset(seed=100 + ep)
        for _ in range(HORIZON):
            a = g.expert_action()
            obs.append(o)
            act.append(a)
            episode.append(ep)
            o, *_ = g.step(a)
    freq = _episode_cells(np.array(obs), np.array(act), np.array(episode), n)
    _assert_matches(freq, _exact_cells(env.domain_scms[0]))


# ---------------------------------------------------------------- the story


def test_cloning_leans_on_the_light(env, clone) -> None:
    w_distance, w_light = clone.coef_[0]
    assert w_light > 2.0 and w_distance < 0
    p = clone.predict_proba(np.array([[CLOSE, 0], [CLOSE, 1]], dtype=float))[:, 1]
    assert p[0] < 0.5 < p[1] and REGRESSION_CLOSE > 0.5
    s = cb.score(lambda X: clone.predict_proba(X)[:, 1], env, seed=0)
    assert s.spurious_reliance > 0.2 and s.excess_risk_id < 0.02              # near the best imitator...
    for k in ("light_broken@1", "light_burnt_out@1", "light_inverted@1"):
        assert s.excess_risk[k] > 0.1, k                                      # ...far from it once the light breaks
    assert s.effect_error_by_variable["light"] > 0.15
    assert s.regret > 0.5                                                     # and its greedy policy crashes


def test_clone_crashes_online_while_the_causal_policy_drives_like_the_expert(env, clone) -> None:
    w, b = clone.coef_[0], clone.intercept_[0]
    episodes = 60
    expert, expert_crashes = _run(lambda g, o: g.expert_action(), episodes, seed=0)
    cloned, clone_crashes = _run(lambda g, o: int(b + o @ w > 0), episodes, seed=0)
    causal, causal_crashes = _run(lambda g, o: int(o[0] == CLOSE), episodes, seed=0)   # greedy on E[A | D]
    assert expert_crashes == 0 and causal_crashes == 0
    assert clone_crashes >= 0.9 * episodes and cloned.mean() < 0 < 0.5 * expert.mean()
    # Same seeds, so the per-episode loss is paired. Its exact long-run value (below) is 5.7% of the
    # expert's reward in the city and 2.2% on the highway; assert it is below 10% by 5 SE.
    loss = expert - causal
    assert loss.mean() + 5 * loss.std(ddof=1) / np.sqrt(episodes) < 0.1 * expert.mean()


def test_long_run_reward_rates_exact() -> None:
    """Stationary reward per step of the expert and of "brake iff a car is close": neither crashes, and
    the causal policy loses exactly one step per stopped car met (a step of waiting once it moves off),
    i.e. mu(ahead, stopped) per step."""
    for name, t in DOMAIN_TRAFFIC.items():
        P = transition_table(t)
        rates = []
        for policy in (expert_action, lambda d, s: np.asarray(np.asarray(d) == CLOSE, dtype=np.int64)):
            chain = np.array([P[d, s, policy(d, s)].ravel() for d, s in SCENES])
            vals, vecs = np.linalg.eig(chain.T)
            mu = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
            mu /= mu.sum()
            acts = np.array([policy(d, s) for d, s in SCENES])
            crash = np.array([(d == CLOSE) & (s == 1) for d, s in SCENES]) & (acts == DRIVE)
            assert not np.any(mu[crash] > 1e-12), name
            rates.append(float(mu @ (acts == DRIVE)))
        assert np.isclose(rates[0] - rates[1], stationary(t)[1, 1], atol=1e-12), (name, rates)
        assert rates[1] > 0.94 * rates[0], (name, rates)
