"""GoalMisgen-v0: exact ground truth, the gym task, expert demonstrations and the misgeneralisation story."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import causalbench as cb
from causalbench.envs import goal_misgen as gm
from causalbench.envs import goal_misgen_world as world
from causalbench.errors import DataError
from causalbench.scm import exact
from causalbench.scm.conditional import conditional_mean_fn

L, R = world.LENGTH, world.VIEW
SHIFTED = [f"{name}@{sev:g}" for name, (_, sevs, _, _) in world.SHIFT_SPECS.items() for sev in sevs]


@pytest.fixture(scope="module")
def env() -> gm.GoalMisgen:
    return cb.make("GoalMisgen-v0")


@pytest.fixture(scope="module")
def demos(env: gm.GoalMisgen) -> dict[str, np.ndarray]:
    return env.demonstrations(4000, seed=0)


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 25) -> np.ndarray:
    """Ridge-penalised logistic regression by Newton's method: weights (intercept first)."""
    Z = np.column_stack([np.ones(len(X)), X])
    w = np.zeros(Z.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-Z @ w))
        grad = Z.T @ (p - y) + l2 * w
        hess = (Z.T * (p * (1 - p))) @ Z + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


@pytest.fixture(scope="module")
def bc_policy(demos: dict[str, np.ndarray]):
    """Behavioural cloning: logistic regression of the expert's action on the observation."""
    w = fit_logistic(demos["observations"].astype(float), demos["actions"].astype(float))
    return lambda X: 1 / (1 + np.exp(-(w[0] + np.asarray(X, dtype=float) @ w[1:])))


def t0_joint(obs: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Empirical joint of (agent_x, coin_dir, flag_dir, move_right) over the 9 x 3 x 3 x 2 cells."""
    cells = np.ravel_multi_index((*obs.astype(np.intp).T, actions), (L, 3, 3, 2))
    return np.bincount(cells, minlength=L * 18) / len(actions)


def scm_joint(scms) -> np.ndarray:
    """Exact joint of the same cells, averaged over equally weighted SCMs."""
    out = np.zeros(L * 18)
    for scm in scms:
        names, states, probs = exact.discrete_joint(scm)
        cols = [names.index(v) for v in (*world.FEATURES, "move_right")]
        cells = np.ravel_multi_index(tuple(states[:, c].astype(np.intp) for c in cols), (L, 3, 3, 2))
        out += np.bincount(cells, probs, minlength=L * 18) / len(scms)
    return out


def gym_success(policy, test_set: str, episodes: int, seed: int = 0) -> float:
    """Share of episodes in which policy(obs, env) reaches the coin before truncation."""
    g = world.GoalMisgenGymEnv(test_set=test_set)
    wins = 0
    for ep in range(episodes):
        obs, _ = g.reset(seed=seed * 1_000_003 + ep)
        terminated = truncated = False
        while not (terminated or truncated):
            obs, _, terminated, truncated, _ = g.step(policy(obs, g))
        wins += terminated
    return wins / episodes


# ---------------------------------------------------------------- gym env


@pytest.mark.parametrize("levels", ["id", "coin_off_flag@1"])
def test_env_checker_passes(levels):
    check_env(world.GoalMisgenGymEnv(test_set=levels), skip_render_check=True)


def test_same_seed_same_rollout_and_seeds_vary():
    def rollout(seed):
        g = world.GoalMisgenGymEnv(render_mode="ansi")
        obs, _ = g.reset(seed=seed)
        acts = np.random.default_rng(7).integers(0, 2, world.HORIZON)
        trace = [obs.tolist(), g.render()]
        for a in acts:
            obs, r, term, trunc, _ = g.step(int(a))
            trace.append((obs.tolist(), r, term, trunc))
            if term or trunc:
                break
        return trace

    assert rollout(3) == rollout(3)
    assert len({str(rollout(s)[:2]) for s in range(20)}) > 5


def test_gym_rewards_walls_and_truncation():
    g = world.GoalMisgenGymEnv(test_set="coin_off_flag@1", horizon=5)
    g.reset(seed=0)
    g.agent_x, g.coin_x, g.flag_x = 0, 8, 4
    obs, r, term, trunc, _ = g.step(0)                 # bump the left wall
    assert obs.tolist() == [0, 1, 2] and r == -world.STEP_PENALTY and not term and not trunc
    for _ in range(4):
        obs, r, term, trunc, _ = g.step(0)
    assert trunc and not term
    g.reset(seed=0)
    g.agent_x, g.coin_x = 3, 4
    assert g._obs().tolist()[1] == 2                   # the coin is seen from the neighbouring cell
    _, r, term, trunc, info = g.step(1)
    assert r == world.COIN_REWARD and term and not trunc and info["reached_coin"]
    with pytest.raises(ValueError):
        g.step(2)
    with pytest.raises(DataError):
        world.GoalMisgenGymEnv(test_set="coin_off_flag@0.3")


def test_gym_expert_rollout_equals_vectorised_demonstrations():
    g = world.GoalMisgenGymEnv()
    for seed in range(40):
        obs, _ = g.reset(seed=seed)
        level = (np.array([g.agent_x]), np.array([g.coin_x]), np.array([g.flag_x]))
        rows = {"observations": [obs], "actions": [], "rewards": [], "terminations": []}
        terminated = truncated = False
        while not (terminated or truncated):
            a = int(world.expert_action(g.agent_x, g.coin_x))
            obs, r, terminated, truncated, _ = g.step(a)
            rows["observations"].append(obs)
            rows["actions"].append(a), rows["rewards"].append(r), rows["terminations"].append(terminated)
        ref = world.rollout_expert(*level)
        assert terminated and len(rows["actions"]) == abs(level[1][0] - level[0][0]) <= L - 1
        np.testing.assert_array_equal(np.array(rows["observations"][:-1]), ref["observations"])
        for key in ("actions", "rewards", "terminations"):
            np.testing.assert_array_equal(np.array(rows[key]), ref[key])


# ---------------------------------------------------------------- demonstrations


def test_demonstrations_are_reproducible_and_well_formed(env, demos):
    again = env.demonstrations(4000, seed=0)
    other = env.demonstrations(4000, seed=1)
    for key in demos:
        np.testing.assert_array_equal(demos[key], again[key])
    assert not np.array_equal(demos["observations"], other["observations"][: len(demos["observations"])])
    ep = demos["episode_ids"]
    n_rows = len(ep)
    assert set(demos) == {"observations", "next_observations", "actions", "rewards", "terminations",
                          "truncations", "episode_ids", "timesteps", "domains"}
    # Within an episode, each row's next observation is the following row's observation.
    same = ep[1:] == ep[:-1]
    np.testing.assert_array_equal(demos["next_observations"][:-1][same], demos["observations"][1:][same])
    assert demos["observations"].shape == (n_rows, 3) and demos["observations"].dtype == np.float32
    assert np.array_equal(np.unique(ep), np.arange(4000))
    assert demos["terminations"].sum() == 4000 and not demos["truncations"].any()
    returns = np.bincount(ep, demos["rewards"])
    lengths = np.bincount(ep)
    np.testing.assert_allclose(returns, world.COIN_REWARD - world.STEP_PENALTY * (lengths - 1))
    assert np.array_equal(np.bincount(demos["domains"][demos["timesteps"] == 0]), [2000, 2000])
    space = world.GoalMisgenGymEnv().observation_space
    assert all(space.contains(o) for o in demos["observations"][:500])


@pytest.mark.parametrize("levels", ["id", "tight", "loose", *SHIFTED])
def test_scm_matches_expert_demonstration_statistics(env, levels):
    """t = 0 state-action pairs of the gym's level generator + expert have exactly the SCM's law."""
    n = 20_000
    d = env.demonstrations(n, seed=11, test_set=levels)
    first = d["timesteps"] == 0
    got = t0_joint(d["observations"][first], d["actions"][first])
    if levels == "id":
        scms = env.domain_scms
    elif levels in world.DOMAIN_SPECS:
        scms = [env.domain_scms[list(world.DOMAIN_SPECS).index(levels)]]
    else:
        shift, sev = env.shift(levels)
        scms = [env.scm.do(shift.intervention(sev))]
    want = scm_joint(scms)
    assert np.all(got[want == 0] == 0)                   # structural zeros are never visited
    tol = 5 * np.sqrt(want * (1 - want) / n) + 1 / n
    assert np.all(np.abs(got - want) <= tol), np.max(np.abs(got - want) / tol)


# ---------------------------------------------------------------- ground truth


def test_regression_on_causes_matches_closed_form_and_is_the_same_in_every_domain(env):
    """E[A | P, coin_dir]: the seen coin's direction, else the share of unseen cells to the right."""
    g = np.arange(L)
    regression = conditional_mean_fn([(0.5, s) for s in env.domain_scms], env.target, ("agent_x", "coin_dir"))
    for p in range(L):
        far = np.abs(g - p) > R
        unseen = (g > p + R).sum() / far.sum()
        X = np.array([[p, world.LEFT], [p, world.NONE], [p, world.RIGHT]], dtype=float)
        got = regression(X)
        np.testing.assert_allclose(got[1], unseen, atol=1e-12)
        assert np.all(np.isnan(got[[0, 2]]) | np.isclose(got[[0, 2]], [0.0, 1.0]))
    grid = np.array([(p, d) for p in range(L) for d in range(3)], dtype=float)
    per_domain = [conditional_mean_fn([(1.0, s)], env.target, ("agent_x", "coin_dir"))(grid) for s in env.domain_scms]
    np.testing.assert_allclose(per_domain[0], per_domain[1], atol=1e-12, equal_nan=True)


def test_causal_reference_closed_form(env):
    """E[A | do(P = p, coin_dir = d)]: d's direction for a seen coin, (8 - p) / 8 for d = none (the coin stays
    uniform over the other cells: setting "not in view" does not move it)."""
    for p in range(L):
        X = np.array([[p, world.LEFT, 0], [p, world.NONE, 1], [p, world.RIGHT, 2]], dtype=float)
        np.testing.assert_allclose(env.truth.causal_reference(X), [0.0, (L - 1 - p) / (L - 1), 1.0], atol=1e-12)


def test_true_effects_match_closed_form(env):
    np.testing.assert_allclose(env.truth.true_effect("agent_x", range(L)), (L - 1 - np.arange(L)) / (L - 1), atol=1e-12)
    np.testing.assert_allclose(env.truth.true_effect("coin_dir", range(3)), [0.0, 0.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(env.truth.true_effect("flag_dir", range(3)), [0.5, 0.5, 0.5], atol=1e-12)
    assert env.null_prediction == pytest.approx(0.5, abs=1e-12)


def test_training_bayes_matches_large_sample_conditional_means(env):
    data = env.dataset("observational", n=200_000, seed=5)
    cells = np.ravel_multi_index(tuple(data.X.astype(np.intp).T), (L, 3, 3))
    count = np.bincount(cells, minlength=9 * L)
    mean = np.bincount(cells, data.y, minlength=9 * L) / np.maximum(count, 1)
    truth = env.truth.bayes(env.policy_cells(), "id")
    seen = count > 0
    tol = 5 * np.sqrt(truth * (1 - truth) / np.maximum(count, 1)) + 1e-12
    assert np.all(np.abs(mean - truth)[seen] <= tol[seen])


# ---------------------------------------------------------------- the story


def test_training_data_can_tell_coin_and_flag_apart(demos):
    """Residual variation: in some training states the coin is in view and the flag points the other way."""
    obs, a = demos["observations"], demos["actions"]
    disagree = (obs[:, 1] != world.NONE) & (obs[:, 2] != world.NONE) & (obs[:, 1] != obs[:, 2])
    assert disagree.sum() >= 50
    assert np.all(a[disagree] == (obs[disagree, 1] == world.RIGHT))


def test_behavioural_cloning_relies_on_the_flag(env, bc_policy):
    s = cb.score(bc_policy, env)
    const = cb.score(lambda X: np.full(len(X), 0.5), env)
    assert s.spurious_reliance > 0.5, s.reliance
    assert s.excess_risk_id < const.excess_risk_id - 0.3                                # a good imitator in training ...
    assert s.excess_risk["flag_opposite@1"] > const.excess_risk["flag_opposite@1"]      # ... worse than a constant
    assert s.excess_risk["coin_off_flag@1"] > 0.3 and s.regret_by_test_set["flag_opposite@1"] > 1.0


def test_behavioural_cloning_misgeneralises_in_the_gym(bc_policy):
    n = 400
    expert = (lambda obs, g: int(world.expert_action(g.agent_x, g.coin_x)))
    clone = (lambda obs, g: int(bc_policy(obs[None])[0] > 0.5))
    assert gym_success(expert, "coin_off_flag@1", 100) == 1.0
    train, moved = gym_success(clone, "id", n), gym_success(clone, "coin_off_flag@1", n, seed=1)
    se = (lambda p: np.sqrt(max(p * (1 - p), 1 / n) / n))
    assert train - 5 * se(train) > 0.9                        # the clone gets the coin in training levels ...
    assert moved + 5 * se(moved) < 0.85                       # ... and far less often once the coin leaves the flag
