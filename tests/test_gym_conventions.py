"""Gymnasium conventions on every registered env (parametrised over the registry): render modes,
`max_episode_steps`, and per-env seeds in vector `reset(seed=[...])`."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import causalbench as cb
from causalbench.env.gym_registration import NAMESPACE
from causalbench.env.registry import ENVS

ENV_IDS = cb.list_envs()
EPISODIC = {e for e in ENV_IDS if getattr(ENVS.get(e), "episodic", False)}


def _our_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if str(w.message).startswith(f"{NAMESPACE}/")]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_render_mode_none_supported_or_warned_never_a_crash(env_id) -> None:
    gym_id = f"{NAMESPACE}/{env_id}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = gym.make(gym_id, render_mode=None)
    assert env.unwrapped.render_mode is None and not _our_warnings(caught)
    for mode in env.metadata["render_modes"]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = gym.make(gym_id, render_mode=mode)
        assert g.unwrapped.render_mode == mode and not caught
        g.reset(seed=0)
        frame = g.render()
        if mode == "ansi":
            assert isinstance(frame, str) and frame
        else:
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3
            assert frame.shape[2] == 3 and frame.max() > frame.min()
    # What stable-baselines3's make_vec_env asks every id for, and a mode no env knows.
    for mode in {"rgb_array", "no_such_mode"} - set(env.metadata["render_modes"]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = gym.make(gym_id, render_mode=mode)
        ours = _our_warnings(caught)
        assert len(ours) == 1 and "\n" not in ours[0] and repr(mode) in ours[0], ours
        assert g.unwrapped.render_mode is None
        g.reset(seed=0)
        assert g.render() is None
        g.step(g.action_space.sample())
    with warnings.catch_warnings(record=True) as caught:   # vector envs pass render_mode to their sub-envs
        warnings.simplefilter("always")
        venv = gym.make_vec(gym_id, num_envs=2, render_mode="rgb_array")
    venv.reset(seed=0)
    supported = "rgb_array" in env.metadata["render_modes"]
    assert venv.render_mode == ("rgb_array" if supported else None) and bool(_our_warnings(caught)) != supported
    frames = venv.render()
    assert (len(frames) == 2 and frames[0].dtype == np.uint8) if supported else frames is None


def test_rgb_frames_follow_the_state() -> None:
    g = gym.make(f"{NAMESPACE}/GoalMisgen-v0", render_mode="rgb_array")
    g.reset(seed=0)
    first = g.render()
    g.step(0 if g.unwrapped.agent_x > 0 else 1)   # a move always changes the agent's cell
    assert first.shape == g.render().shape and not np.array_equal(first, g.render())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_max_episode_steps_registered(env_id) -> None:
    spec = gym.spec(f"{NAMESPACE}/{env_id}")
    cls = ENVS.get(env_id)
    if env_id in EPISODIC:
        assert cls.max_episode_steps > 0 and spec.max_episode_steps == cls.max_episode_steps
        env = gym.make(spec.id)
        assert env.spec.max_episode_steps == cls.max_episode_steps
        assert any(isinstance(w, gym.wrappers.TimeLimit) for w in _wrappers(env))
        env.reset(seed=0)
        for t in range(1, cls.max_episode_steps + 1):   # a policy may never finish: the episode still ends
            _, _, terminated, truncated, _ = env.step(t % 2)
            if terminated or truncated:
                break
        assert terminated or truncated
    else:
        assert spec.max_episode_steps is None        # one step: every episode terminates at once


def _wrappers(env: gym.Env) -> list[gym.Env]:
    out = [env]
    while isinstance(out[-1], gym.Wrapper):
        out.append(out[-1].env)
    return out


def _rollout(venv: gym.vector.VectorEnv, seed: object, steps: int = 6) -> list[np.ndarray]:
    obs, _ = venv.reset(seed=seed)
    out = [obs]
    for k in range(steps):
        actions = np.array([venv.single_action_space.sample() for _ in range(venv.num_envs)])
        obs, rewards, _, _, _ = venv.step(actions)
        out += [obs, rewards]
    return out


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_reset_honours_every_per_env_seed(env_id) -> None:
    """gym.make_vec's default vectorisation (the native vector env where one is registered): `reset(seed=[...])`
    is reproducible, `seed=s` means [s, s + 1, ...], and every sub-env's seed changes what is served."""
    venv = gym.make_vec(f"{NAMESPACE}/{env_id}", num_envs=3)
    native = env_id not in EPISODIC
    assert native == (venv.metadata.get("autoreset_mode") == gym.vector.AutoresetMode.SAME_STEP)

    def run(seed: object) -> list[np.ndarray]:
        venv.single_action_space.seed(0)
        return _rollout(venv, seed)

    base = run([11, 12, 13])
    assert _same(base, run([11, 12, 13])) and _same(base, run(11))
    for i in range(3):
        seeds = [11, 12, 13]
        seeds[i] = 99
        assert not _same(base, run(seeds)), f"sub-env {i}'s seed is ignored"
    if not native:
        # gymnasium's sync vector env: sub-env i is exactly a single env seeded with seeds[i]
        single = gym.make(f"{NAMESPACE}/{env_id}")
        obs, _ = venv.reset(seed=[5, 6, 7])
        assert all(np.array_equal(obs[i], single.reset(seed=5 + i)[0]) for i in range(3))
    else:
        with pytest.raises(gym.error.Error):
            venv.reset(seed=[1, 2])
