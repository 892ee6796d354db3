"""Offline (logged) data for the gymnasium tasks, as arrays or as a Minari dataset.

The behaviour policy is the action variable's own, confounded, mechanism: in
TreatmentRecovery the doctors treat the severe cases, so logged rewards mislead
exactly as the records do. Single-step decision envs log one-step episodes;
multi-step envs (Copycat, GoalMisgen) log expert demonstrations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ..provenance import VERSION, git_hash
from .base import CausalEnv
from .gym_registration import NAMESPACE

KEYS = ("observations", "next_observations", "actions", "rewards", "terminations", "truncations", "episode_ids")


def logged_episodes(env: CausalEnv, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n logged episodes as flat arrays (one row per step), keys as in `KEYS` plus env-specific extras.

    Single-step decision envs: observation = context variables, action = index of the logged
    action value in `env.action_values` (real-valued logged actions are mapped to the nearest
    grid value; the exact value is kept in `logged_action_values`), reward = utility of the
    logged outcome under the exact logged action.
    """
    demonstrations = getattr(env, "demonstrations", None)
    if callable(demonstrations):
        return demonstrations(n, seed=seed)
    if env.action is None:
        raise DataError(f"{env.id} has no action variable: there is no behaviour policy to log")
    data = env.dataset("observational", n=n, seed=seed)
    V = data.X if tuple(data.feature_names) == env.variables else None
    if V is None:
        raise DataError(f"{env.id}: logged episodes need column-level features")
    ctx = V[:, [env.variables.index(c) for c in env.context_variables]].astype(np.float32)
    logged = V[:, env.variables.index(env.action)]
    grid = np.asarray(env.action_values)
    index = np.abs(logged[:, None] - grid[None, :]).argmin(axis=1)
    return {
        "observations": ctx, "next_observations": ctx.copy(), "actions": index.astype(np.int64),
        "rewards": env.utility(data.y, logged).astype(np.float64), "terminations": np.ones(n, bool),
        "truncations": np.zeros(n, bool), "episode_ids": np.arange(n), "logged_action_values": logged,
        "outcomes": np.asarray(data.y, dtype=np.float64),
    }


def to_minari(env_id: str, data: dict[str, np.ndarray], dataset_id: str, description: str = "") -> Any:
    """Write logged episodes as a Minari dataset (needs `pip install minari`); returns the MinariDataset.

    Time is linear in the number of episodes: see `_append_episodes`.
    """
    try:
        import minari
        from minari.data_collector import EpisodeBuffer
    except ImportError:
        raise DataError('Minari export needs the minari package: pip install "causalbench-suite[minari]"') from None
    import gymnasium as gym

    gym_env = gym.make(f"{NAMESPACE}/{env_id}")
    episodes = data["episode_ids"]
    bounds = np.flatnonzero(np.diff(episodes)) + 1
    starts, stops = np.r_[0, bounds], np.r_[bounds, len(episodes)]
    obs_all, next_obs, actions = data["observations"], data["next_observations"], data["actions"]
    rewards, terms, truncs = data["rewards"], data["terminations"], data["truncations"]
    buffers = [EpisodeBuffer(id=k, observations=np.concatenate([obs_all[a:b], next_obs[b - 1:b]]),
                             actions=actions[a:b], rewards=rewards[a:b], terminations=terms[a:b],
                             truncations=truncs[a:b])
               for k, (a, b) in enumerate(zip(starts.tolist(), stops.tolist()))]
    dataset = minari.create_dataset_from_buffers(
        dataset_id=dataset_id, buffer=[], env=gym_env.spec, eval_env=gym_env.spec,
        algorithm_name="logged behaviour policy",
        author="causalbench", author_email="causalbench@users.noreply.github.com",
        code_permalink=f"causalbench {VERSION} (git {git_hash() or 'unknown'})",
        description=description or f"Logged episodes of causalbench {env_id} (confounded behaviour policy).",
        action_space=gym_env.action_space, observation_space=gym_env.observation_space, data_format="arrow",
    )
    _append_episodes(dataset.storage, buffers)
    return minari.MinariDataset(dataset.storage)


def _append_episodes(storage: Any, buffers: list[Any]) -> None:
    """Write all episodes into a Minari storage, measuring the dataset folder once at the end.

    Minari's storages re-measure the whole dataset folder after every episode (`get_size` walks
    every file written so far), so writing n episodes one by one costs O(n^2) file stats: 200
    one-step episodes took 6.7 s and 1,000 took 106 s. Here the per-episode measurement is a
    no-op and the size is recorded once, so the cost is linear in episodes.
    """
    measure = storage.get_size
    storage.get_size = lambda: 0.0  # an instance attribute shadows the method during the bulk write
    try:
        storage.update_episodes(buffers)
    finally:
        del storage.get_size
    storage.update_metadata({"dataset_size": measure()})
