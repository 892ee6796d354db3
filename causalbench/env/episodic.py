"""Multi-step environments: an SCM of one decision plus a gymnasium task with a finite observation grid.

One SCM row is one decision of an expert (the prediction target is the expert's binary
action), and the gymnasium class plays the same world step by step. Because the
observation grid is finite, a predictor's greedy policy is a table over the observation
cells, and every policy's expected return is computed exactly (dynamic programming over
the hidden state), on the training levels and on every shifted level set. Regret is
measured against the best memoryless policy on the observation, never a privileged expert.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import gymnasium
import numpy as np

from .base import CausalEnv
from .instances import InstanceSpace

OBSERVATION_KEYS = ("observations", "next_observations")
# What a hidden instance of a multi-step env randomises: which observation column is which cue, and what
# its codes mean, so a policy table hard-coded on the public instance is wrong (the worlds' level and
# traffic laws stay those of the public instance: their exact policy values are computed from them).
EPISODIC_SPACE = InstanceSpace(notes="the gym observation uses the same anonymised column layout")

MAX_ENUMERATED_CELLS = 16   # best_policy enumerates 2^cells deterministic tables up to this size


class EpisodicEnv(CausalEnv):
    """Base class of multi-step envs (see `envs/copycat.py`, `envs/goal_misgen.py`).

    Subclasses set `gym_class` (the gymnasium env; it takes `test_set=` like every causalbench
    gym env) and implement `policy_cells`, `policy_value` and `demonstrations`; `best_policy`
    enumerates deterministic tables when there are few cells, else the subclass overrides it.
    """

    episodic: ClassVar[bool] = True
    gym_class: ClassVar[type] = type(None)
    max_episode_steps: ClassVar[int] = 0
    instance_space: ClassVar[InstanceSpace] = EPISODIC_SPACE

    def policy_cells(self) -> np.ndarray:
        """Every observation the gym task can emit, as feature rows: the greedy policy's domain."""
        raise NotImplementedError

    def policy_value(self, p_action: np.ndarray, test_set: str = "id") -> float:
        """Exact expected episode return of the memoryless policy taking action 1 with probability
        `p_action[i]` at `policy_cells()[i]`, on the levels of `test_set` ("id" = training levels)."""
        raise NotImplementedError

    def best_policy(self, test_set: str = "id") -> tuple[np.ndarray, float]:
        """(table, value): the best deterministic memoryless policy on the observation, exactly (cached)."""
        cache = self.__dict__.setdefault("_best_policies", {})
        if test_set not in cache:
            cache[test_set] = self.solve_best_policy(test_set)
        return cache[test_set]

    def solve_best_policy(self, test_set: str) -> tuple[np.ndarray, float]:
        """Enumerate every deterministic table (few cells); envs with many cells override this."""
        cells = len(self.policy_cells())
        if cells > MAX_ENUMERATED_CELLS:
            raise NotImplementedError(f"{self.id}: {cells} observation cells are too many to enumerate; "
                                      "override solve_best_policy")
        best, value = np.zeros(cells), -np.inf
        for bits in itertools.product((0.0, 1.0), repeat=cells):
            v = self.policy_value(np.array(bits), test_set)
            if v > value + 1e-12:
                best, value = np.array(bits), v
        return best, float(value)

    def demonstrations(self, n_episodes: int, seed: int = 0, test_set: str = "id") -> dict[str, np.ndarray]:
        """The expert's logged episodes (flat per-step arrays, Minari-style keys)."""
        raise NotImplementedError

    def gym_env(self, test_set: str = "id", **kwargs: Any) -> Any:
        """The gymnasium task on the levels of `test_set` (a hidden instance's observations in its column layout)."""
        genv = self.gym_class(test_set=test_set, **kwargs)
        if self.columns is None:
            return genv
        space = genv.observation_space
        ends = np.stack([self.render(space.low[None, :])[0], self.render(space.high[None, :])[0]])
        box = gymnasium.spaces.Box(ends.min(axis=0).astype(space.dtype), ends.max(axis=0).astype(space.dtype),
                                   dtype=space.dtype)
        return gymnasium.wrappers.TransformObservation(
            genv, lambda obs: self.render(np.asarray(obs)[None, :])[0].astype(space.dtype), box)

    def observed(self, episodes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Demonstrations with their observations in this instance's column layout (unchanged when public)."""
        if self.columns is None:
            return episodes
        return {k: (self.render(v).astype(v.dtype) if k in OBSERVATION_KEYS else v) for k, v in episodes.items()}
