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
Units are drawn from `np_random` in batches and served in order (`episodes.py`),
so a step costs a slice, not an SCM pass.
Both kinds have a natively batched numpy vector env (same-step autoreset),
registered as the gymnasium id's `vector_entry_point`. Multi-step envs
(Copycat, GoalMisgen) register their own gymnasium classes.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ..scm import SCM
from .base import CausalEnv
from .episodes import EpisodeBatch, EpisodeSource, EpisodeStream
from .gym_registration import NAMESPACE
from .registry import ENVS, make
from .rendering import accepted_render_mode

PREDICTION_SPAN = 4.0  # real-target prediction envs: action in [-1, 1] covers +/- 4 sd of Y


OBS_SD_BOUND = 10.0  # real observations are declared (and clipped) to training mean +/- 10 sd


def observation_box(env: CausalEnv, names: tuple[str, ...]) -> spaces.Box:
    """The observation space of `names` (observations are clipped to it). Declared bounds: state ranges
    for discrete variables; mean +/- 10 sd (training law) for real ones."""
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


class CausalDecisionEnv(gym.Env):
    """One-step contextual decision problem: see the module docstring.

    `info` holds `outcome` (the realised target). With `privileged_info=True` it also holds
    `potential_rewards` (the unit's reward under every action: counterfactual, privileged).
    Units are drawn from `np_random` in batches and served one per episode (`episodes.EpisodeStream`).
    """

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, test_set: str | None = None, privileged_info: bool = False,
                 render_mode: str | None = None, **options: Any) -> None:
        self.render_mode = accepted_render_mode(f"{NAMESPACE}/{env_id}", render_mode, self.metadata["render_modes"])
        self.cenv = make(env_id, **options)
        if self.cenv.action is None:
            raise gym.error.Error(f"{env_id} has no action variable; use CausalPredictionEnv")
        self._source = _Source(self.cenv, test_set)
        self.context = self.cenv.context_variables
        self.values = np.asarray(self.cenv.action_values, dtype=float)
        self.observation_space = observation_box(self.cenv, self.context)
        self.action_space = spaces.Discrete(len(self.values))
        self.privileged_info = privileged_info
        self.episodes = EpisodeSource(self.cenv, self._source.scms, self.context, self.observation_space.low,
                                      self.observation_space.high)
        self._stream = EpisodeStream(self.episodes)
        self._batch: EpisodeBatch | None = None
        self._row = -1
        self._rewards = np.zeros((0, len(self.values)))   # reward of every action, for the batch being served
        self._outcomes = np.zeros((0, len(self.values)))

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        batch, self._row = self._stream.next(self.np_random)
        if self._row == 0:  # a new batch: tabulate every action's outcome and reward once
            m, values = len(batch), self.values
            self._outcomes = np.broadcast_to(batch.outcomes, (m, len(values)))
            self._rewards = np.column_stack([self.cenv.utility(self._outcomes[:, k], np.full(m, v))
                                             for k, v in enumerate(values)])
        self._batch = batch
        return batch.obs[self._row].copy(), {}

    def render(self) -> None:
        """One-step envs have nothing to draw (`render_mode` is always None): returns None."""
        return None

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        batch, row = self._batch, self._row
        if batch is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise gym.error.InvalidAction(f"action {action!r} is not in {self.action_space}")
        k = int(action)
        info: dict[str, Any] = {"outcome": float(self._outcomes[row, k])}
        if self.privileged_info:
            info["potential_rewards"] = self._rewards[row].copy()
        self._batch = None
        return batch.obs[row].copy(), float(self._rewards[row, k]), True, False, info


class CausalPredictionEnv(gym.Env):
    """One-step prediction task for envs without an action: reward = -squared error or 1[correct]."""

    metadata = {"render_modes": []}

    def __init__(self, env_id: str, test_set: str | None = None, render_mode: str | None = None,
                 **options: Any) -> None:
        self.render_mode = accepted_render_mode(f"{NAMESPACE}/{env_id}", render_mode, self.metadata["render_modes"])
        self.cenv = make(env_id, **options)
        self._source = _Source(self.cenv, test_set)
        d = len(self.cenv.feature_names)
        plain = type(self.cenv).render is CausalEnv.render
        if plain:
            self.observation_space = observation_box(self.cenv, self.cenv.variables)
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
        self.episodes = EpisodeSource(self.cenv, self._source.scms, self.cenv.variables, self.observation_space.low,
                                      self.observation_space.high, None if plain else self.cenv.render)
        self._stream = EpisodeStream(self.episodes)
        self._batch: EpisodeBatch | None = None
        self._row = -1

    def prediction(self, action: float) -> float:
        """The target value a (normalised) action in [-1, 1] stands for."""
        return self.cenv.null_prediction + PREDICTION_SPAN * self.cenv.target_scale * float(action)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._batch, self._row = self._stream.next(self.np_random)
        return self._batch.obs[self._row].copy(), {}

    def render(self) -> None:
        """One-step envs have nothing to draw (`render_mode` is always None): returns None."""
        return None

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        batch, row = self._batch, self._row
        if batch is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        y = float(batch.outcomes[row, 0])
        if self.cenv.target_kind == "binary":
            reward = float(int(action) == int(y))
        else:
            pred = self.prediction(np.asarray(action, dtype=float).reshape(-1)[0])
            reward = -float((pred - y) ** 2)
        self._batch = None
        return batch.obs[row].copy(), reward, True, False, {"outcome": y}


class _OneStepVectorEnv(VectorEnv):
    """Shared batched machinery: every step ends every episode, so autoreset is same-step (the returned
    observation is already the next unit's). Sub-env i serves row i of each run of `num_envs`
    consecutive episodes of the single env's `EpisodeSource`; subclasses pay rewards (`_rewards`).

    Seeding: `reset(seed=s)` means the per-env seeds [s, s + 1, ..., s + num_envs - 1] (gymnasium's
    convention for vector envs), and `reset(seed=[s0, s1, ...])` uses every one of them: the shared
    generator is `SeedSequence([s0, s1, ...])`, so changing any sub-env's seed changes the draws.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}
    single_cls: type[gym.Env]

    def __init__(self, env_id: str, num_envs: int = 1, test_set: str | None = None, **options: Any) -> None:
        self.single = self.single_cls(env_id, test_set, **options)
        self.cenv, self.num_envs = self.single.cenv, int(num_envs)
        self.render_mode = self.single.render_mode
        self.single_observation_space = self.single.observation_space
        self.single_action_space = self.single.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._stream = EpisodeStream(self.single.episodes, self.num_envs)
        self._batch: EpisodeBatch | None = None
        self._at = 0
        self._done = np.ones(self.num_envs, dtype=bool)

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rewards, realised outcomes) of the current units under `actions`."""
        raise NotImplementedError

    def render(self) -> None:
        """One-step envs have nothing to draw: returns None."""
        return None

    def _serve(self) -> np.ndarray:
        self._batch, self._at = self._stream.next(self.np_random)
        return self._batch.obs[self._at:self._at + self.num_envs].copy()

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None
              ) -> tuple[np.ndarray, dict]:
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, (int, np.integer)) else list(seed)
            if len(seeds) != self.num_envs:
                raise gym.error.Error(f"reset(seed=...) got {len(seeds)} seeds for {self.num_envs} sub-envs")
            if any(s is not None for s in seeds):
                entropy = [int(s) if s is not None else np.random.SeedSequence().entropy for s in seeds]
                self._np_random = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
                self._np_random_seed = tuple(seeds)
        return self._serve(), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if self._batch is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        rewards, outcomes = self._rewards(actions)
        obs = self._serve()
        return obs, rewards, self._done.copy(), np.zeros(self.num_envs, dtype=bool), {"outcome": outcomes}


class CausalDecisionVectorEnv(_OneStepVectorEnv):
    """Natively batched `CausalDecisionEnv`: one numpy pass per step for all sub-envs."""

    single_cls = CausalDecisionEnv

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        a = np.asarray(actions, dtype=np.intp).reshape(self.num_envs)
        values = self.single.values
        if a.min() < 0 or a.max() >= len(values):
            raise gym.error.InvalidAction(f"actions must lie in 0..{len(values) - 1}")
        assert self._batch is not None
        rows = slice(self._at, self._at + self.num_envs)
        y = self._batch.outcomes[rows, 0].copy() if self._batch.outcomes.shape[1] == 1 \
            else self._batch.outcome(np.arange(self._at, self._at + self.num_envs), a)
        v = values.take(a)
        return self.cenv.utility(y, v).astype(np.float64, copy=False), y


class CausalPredictionVectorEnv(_OneStepVectorEnv):
    """Natively batched `CausalPredictionEnv`."""

    single_cls = CausalPredictionEnv

    def _rewards(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        assert self._batch is not None
        y = self._batch.outcomes[self._at:self._at + self.num_envs, 0].copy()
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
