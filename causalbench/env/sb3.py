"""stable-baselines3 on the native batched envs: `SB3VecEnv` presents a one-step vector env as an SB3 `VecEnv`.

    from stable_baselines3 import PPO
    from causalbench.env.sb3 import SB3VecEnv
    model = PPO("MlpPolicy", SB3VecEnv("IceCreamShorts-v1", num_envs=64, seed=0), n_steps=8).learn(20_000)

Every step is one numpy pass for all sub-envs (`CausalDecisionVectorEnv` / `CausalPredictionVectorEnv`),
not a Python loop over gym envs as in SB3's `DummyVecEnv`. Every episode is one step, so every
sub-env is done at every step: `infos[i]["terminal_observation"]` is the observation the action
answered (what the single gym env returns), and the returned observation is already the next
unit's. Sub-envs share one batched env, so `get_attr`/`set_attr`/`env_method` act on it as a whole.
Multi-step envs (no native vector env) use SB3's own `make_vec_env("causalbench/<id>", n_envs=...)`.
This module is the only one that imports stable-baselines3 (install it with the `rl` extra).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np

from ..errors import CausalBenchError
from .gym import CausalDecisionVectorEnv, CausalPredictionVectorEnv
from .gym_registration import NAMESPACE

try:
    from stable_baselines3.common.vec_env import VecEnv
except ImportError:
    raise CausalBenchError('causalbench.env.sb3 needs stable-baselines3: pip install "causalbench-suite[rl]"') from None

NATIVE = (CausalDecisionVectorEnv, CausalPredictionVectorEnv)


def native_vector_env(env: str | gym.vector.VectorEnv, num_envs: int, **kwargs: Any) -> gym.vector.VectorEnv:
    """The native vector env of an id ("IceCreamShorts-v1" or "causalbench/IceCreamShorts-v1"), or `env` itself."""
    if not isinstance(env, str):
        if kwargs or not isinstance(getattr(env, "unwrapped", None), NATIVE):
            raise CausalBenchError(f"SB3VecEnv takes an env id (and options) or a causalbench native vector env, "
                                   f"got {type(env).__name__}")
        return env
    gym_id = env if env.startswith(f"{NAMESPACE}/") else f"{NAMESPACE}/{env}"
    try:
        spec = gym.spec(gym_id)
    except gym.error.Error:
        raise CausalBenchError(f"{env!r} is not a registered causalbench env (see causalbench.list_envs())") from None
    if spec.vector_entry_point is None:
        raise CausalBenchError(f"{gym_id} has no native vector env (a multi-step task): use stable_baselines3's "
                               f"make_vec_env({gym_id!r}, n_envs=...)")
    return gym.make_vec(gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


class SB3VecEnv(VecEnv):
    """A causalbench one-step vector env as a stable-baselines3 `VecEnv` (see the module docstring).

    `env` is an env id (its options, e.g. `test_set="heatwave@2"`, go in `kwargs`) or a native vector
    env; `seed` seeds the first reset (sub-env seeds seed, seed + 1, ..., as SB3's `VecEnv.seed`).
    """

    def __init__(self, env: str | gym.vector.VectorEnv, num_envs: int = 8, seed: int | None = None,
                 **kwargs: Any) -> None:
        self.venv = native_vector_env(env, num_envs, **kwargs)
        self._last_obs: np.ndarray | None = None
        self._actions: np.ndarray | None = None
        super().__init__(self.venv.num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        if seed is not None:
            self.seed(seed)

    def reset(self) -> np.ndarray:
        kwargs: dict[str, Any] = {}
        if any(s is not None for s in self._seeds):
            kwargs["seed"] = list(self._seeds)
        options = [o for o in self._options if o]
        if options:
            if any(o != self._options[0] for o in self._options):
                raise CausalBenchError("the sub-envs of a batched env reset together: give every one the same options")
            kwargs["options"] = dict(self._options[0])
        obs, info = self.venv.reset(**kwargs)
        self.reset_infos = self._infos(info)
        self._reset_seeds()
        self._reset_options()
        self._last_obs = obs
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if self._last_obs is None or self._actions is None:
            raise CausalBenchError("call reset() and step_async(actions) before step_wait()")
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        infos = self._infos(info)
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = self._last_obs[i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        self._last_obs, self._actions = obs, None
        return obs, np.asarray(rewards, dtype=np.float32), dones, infos

    def _infos(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """gymnasium's batched info dict (arrays, with optional `_key` masks) as one dict per sub-env."""
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for key, values in info.items():
            if key.startswith("_"):
                continue
            mask = info.get(f"_{key}")
            for i in range(self.num_envs):
                if mask is None or mask[i]:
                    infos[i][key] = values[i]
        return infos

    def close(self) -> None:
        self.venv.close()

    def _indices(self, indices: None | int | Iterable[int]) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: None | int | Iterable[int] = None) -> list[Any]:
        """The batched env's attribute (or its template single env's), once per requested sub-env."""
        for owner in (self.venv, getattr(self.venv, "single", None)):
            if owner is not None and hasattr(owner, attr_name):
                return [getattr(owner, attr_name)] * len(self._indices(indices))
        raise AttributeError(f"the batched env has no attribute {attr_name!r}")

    def set_attr(self, attr_name: str, value: Any, indices: None | int | Iterable[int] = None) -> None:
        if sorted(self._indices(indices)) != list(range(self.num_envs)):
            raise CausalBenchError(f"sub-envs share one batched env: set_attr({attr_name!r}) must target all of them")
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: None | int | Iterable[int] = None,
                   **method_kwargs: Any) -> list[Any]:
        """Calls the batched env's method once; its result stands for every requested sub-env."""
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: None | int | Iterable[int] = None
                       ) -> list[bool]:
        return [False] * len(self._indices(indices))

    def get_images(self) -> Sequence[np.ndarray | None]:
        raise CausalBenchError("one-step causalbench envs do not render")
