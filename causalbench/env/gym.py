"""Gymnasium adaptors: every environment as a one-step task, plus a native batched vector env.

- Decision envs (an `action` variable): observation = observed pre-action
  variables (hidden confounders never), action = Discrete index into
  `action_values` meaning do(action = value), reward = utility of the outcome.
- Prediction envs (no action): observation = the feature vector, action = a
  prediction of the target (Box[-1, 1] meaning mean + 4 sd * action for real
  targets, Discrete(2) for binary), reward = -squared error or 1[correct].

Each episode is one unit drawn from the training mixture (or from a named test
set's distribution, `test_set="heatwave@2"`). Units carry their own exogenous
noise, so the outcome is the unit's potential outcome under the chosen action.
Both kinds have a natively batched numpy vector env (same-step autoreset),
registered as the gymnasium id's `vector_entry_point`. Multi-step envs
(Copycat, GoalMisgen) register their own gymnasium classes.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..scm import SCM, Units
from .base import CausalEnv
from .registry import ENVS, make

PREDICTION_SPAN = 4.0  # real-target prediction envs: action in [-1, 1] covers +/- 4 sd of Y


OBS_SD_BOUND = 10.0  # real observations are declared (and clipped) to training mean +/- 10 sd


def _box_for(env: CausalEnv, names: tuple[str, ...]) -> spaces.Box:
    """Declared bounds: state ranges for discrete variables; mean +/- 10 sd (training law) for real ones."""
    low, high = [], []
    for v in names:
        var = env.scm[v]
        if var.cardinality:
            low.append(0.0)
            high.append(float(var.cardinality - 1))
        else:
            col = env.pilot[v]
            m, sd = float(col.mean()), float(col.std()) or 1.0
            low.append(np.floor(m - OBS_SD_BOUND * sd))
            high.append(np.ceil(m + OBS_SD_BOUND * sd))
    return spaces.Box(np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32)


class _Source:
    """Where units come from: the training domains (uniform mixture) or one test distribution."""

    def __init__(self, env: CausalEnv, test_set: str | None) -> None:
        if test_set is None or test_set == "id":
            self.scms: tuple[SCM, ...] = env.domain_scms
        else:
            shift, sev = env.shift(test_set)
            self.scms = (env.scm.do(shift.intervention(sev)),)

    def units(self, n: int, np_random: np.random.Generator) -> list[Units]:
        """n units; each unit's domain is drawn uniformly at random."""
        counts = np.bincount(np_random.integers(len(self.scms), size=n), minlength=len(self.scms))
        return [scm.units(int(m), int(np_random.integers(2**63))) for scm, m in zip(self.scms, counts) if m > 0]


def _stack(units: list[Units], names: tuple[str, ...], do: dict[str, Any] | None = None) -> np.ndarray:
    out, start = [], 0
    for u in units:
        part = {k: (v[start:start + u.n] if isinstance(v, np.ndarray) else v) for k, v in (do or {}).items()}
        out.append(u.sample(part or None).columns(names))
        start += u.n
    return np.concatenate(out)


class CausalDecisionEnv(gym.Env):
    """One-step contextual decision problem: see the module docstring.

    `info` holds `outcome` (the realised target). With `privileged_info=True` it also holds
    `potential_rewards` (the unit's reward under every action: counterfactual, privileged).
    """

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, test_set: str | None = None, privileged_info: bool = False,
                 render_mode: str | None = None, **options: Any) -> None:
        self.cenv = make(env_id, **options)
        if self.cenv.action is None:
            raise gym.error.Error(f"{env_id} has no action variable; use CausalPredictionEnv")
        self._source = _Source(self.cenv, test_set)
        self.context = self.cenv.context_variables
        self.values = np.asarray(self.cenv.action_values, dtype=float)
        self.observation_space = _box_for(self.cenv, self.context)
        self.action_space = spaces.Discrete(len(self.values))
        self.privileged_info = privileged_info
        self._units: list[Units] | None = None
        self._obs: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._units = self._source.units(1, self.np_random)
        obs = _stack(self._units, self.context)[0].astype(np.float32)
        self._obs = np.clip(obs, self.observation_space.low, self.observation_space.high)
        return self._obs.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._units is None or self._obs is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise gym.error.InvalidAction(f"action {action!r} is not in {self.action_space}")
        a = self.values[int(action)]
        cenv = self.cenv
        y = _stack(self._units, (cenv.target,), {cenv.action: a})[0, 0]
        reward = float(cenv.utility(np.array([y]), np.array([a]))[0])
        info: dict[str, Any] = {"outcome": float(y)}
        if self.privileged_info:
            ys = [_stack(self._units, (cenv.target,), {cenv.action: v})[0, 0] for v in self.values]
            info["potential_rewards"] = cenv.utility(np.array(ys), self.values)
        obs = self._obs
        self._units = None
        return obs.copy(), reward, True, False, info


class CausalPredictionEnv(gym.Env):
    """One-step prediction task for envs without an action: reward = -squared error or 1[correct]."""

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, test_set: str | None = None, render_mode: str | None = None,
                 **options: Any) -> None:
        self.cenv = make(env_id, **options)
        self._source = _Source(self.cenv, test_set)
        d = len(self.cenv.feature_names)
        if type(self.cenv).render is CausalEnv.render:
            self.observation_space = _box_for(self.cenv, self.cenv.variables)
        else:
            X = self.cenv.render(self.cenv.pilot.columns(self.cenv.variables)[:20_000])
            m, sd = X.mean(axis=0), X.std(axis=0) + 1e-12
            self.observation_space = spaces.Box(np.floor(m - OBS_SD_BOUND * sd).astype(np.float32),
                                                np.ceil(m + OBS_SD_BOUND * sd).astype(np.float32), (d,), np.float32)
        if self.cenv.target_kind == "binary":
            self.action_space: spaces.Space = spaces.Discrete(2)
        else:
            # Normalised action (gymnasium/SB3 advice): prediction = training mean + SPAN * sd(Y) * action.
            self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._y: float | None = None

    def prediction(self, action: float) -> float:
        """The target value a (normalised) action in [-1, 1] stands for."""
        return self.cenv.null_prediction + PREDICTION_SPAN * self.cenv.target_scale * float(action)


    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        units = self._source.units(1, self.np_random)
        row = _stack(units, (*self.cenv.variables, self.cenv.target))[0]
        self._y = float(row[-1])
        obs = self.cenv.render(row[None, :-1])[0].astype(np.float32)
        self._obs = np.clip(obs, self.observation_space.low, self.observation_space.high)
        return self._obs.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._y is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self.cenv.target_kind == "binary":
            reward = float(int(action) == int(self._y))
        else:
            pred = self.prediction(np.asarray(action, dtype=float).reshape(-1)[0])
            reward = -float((pred - self._y) ** 2)
        info = {"outcome": self._y}
        self._y = None
        return self._obs.copy(), reward, True, False, info


class _OneStepVectorEnv(VectorEnv):
    """Shared batched machinery: every step ends every episode, so autoreset is same-step (the returned
    observation is already the next unit's). Subclasses draw units (`_draw`) and pay rewards (`_rewards`)."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}
    single_cls: type[gym.Env]

    def __init__(self, env_id: str, num_envs: int = 1, test_set: str | None = None, **options: Any) -> None:
        self.single = self.single_cls(env_id, test_set, **options)
        self.cenv, self.num_envs = self.single.cenv, int(num_envs)
        self.single_observation_space = self.single.observation_space
        self.single_action_space = self.single.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._ready = False

    def _draw(self) -> np.ndarray:
        raise NotImplementedError

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rewards, realised outcomes) of the current units under `actions`."""
        raise NotImplementedError

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        space = self.single_observation_space
        return np.clip(obs.astype(np.float32), space.low, space.high)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None
              ) -> tuple[np.ndarray, dict]:
        if isinstance(seed, list):
            seed = seed[0]
        if seed is not None:
            self._np_random, self._np_random_seed = gym.utils.seeding.np_random(seed)
        self._ready = True
        return self._draw(), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._ready:
            raise gym.error.ResetNeeded("call reset() before step()")
        rewards, outcomes = self._rewards(actions)
        obs = self._draw()
        done = np.ones(self.num_envs, dtype=bool)
        return obs, rewards, done, np.zeros(self.num_envs, dtype=bool), {"outcome": outcomes}


class CausalDecisionVectorEnv(_OneStepVectorEnv):
    """Natively batched `CausalDecisionEnv`: one numpy pass per step for all sub-envs."""

    single_cls = CausalDecisionEnv

    def _draw(self) -> np.ndarray:
        self._units = self.single._source.units(self.num_envs, self.np_random)
        return self._observe(_stack(self._units, self.single.context))

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        a = self.single.values[np.asarray(actions, dtype=np.intp)]
        y = _stack(self._units, (self.cenv.target,), {self.cenv.action: a})[:, 0]
        return self.cenv.utility(y, a).astype(np.float64), y


class CausalPredictionVectorEnv(_OneStepVectorEnv):
    """Natively batched `CausalPredictionEnv`."""

    single_cls = CausalPredictionEnv

    def _draw(self) -> np.ndarray:
        cenv = self.cenv
        rows = _stack(self.single._source.units(self.num_envs, self.np_random), (*cenv.variables, cenv.target))
        self._y = rows[:, -1]
        return self._observe(cenv.render(rows[:, :-1]))

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        y = self._y
        if self.cenv.target_kind == "binary":
            return (np.asarray(actions, dtype=np.int64).reshape(-1) == y.astype(np.int64)).astype(np.float64), y
        a = np.asarray(actions, dtype=float).reshape(self.num_envs, -1)[:, 0]
        pred = self.cenv.null_prediction + PREDICTION_SPAN * self.cenv.target_scale * a
        return -((pred - y) ** 2), y


def make_gym_env(env_id: str, **kwargs: Any) -> gym.Env:
    """Gymnasium entry point: the decision env if the environment has an action, else the prediction env."""
    cls = ENVS.get(env_id)
    return (CausalDecisionEnv if cls.action is not None else CausalPredictionEnv)(env_id, **kwargs)


def make_vector_env(env_id: str, num_envs: int = 1, **kwargs: Any) -> VectorEnv:
    """Gymnasium vector entry point: the native batched decision or prediction env."""
    cls = CausalDecisionVectorEnv if ENVS.get(env_id).action is not None else CausalPredictionVectorEnv
    return cls(env_id, num_envs, **kwargs)
