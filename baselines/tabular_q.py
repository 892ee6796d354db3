"""Tabular Q-learning for the multi-step gym tasks (Copycat, GoalMisgen): learning by acting.

Watkins' Q-learning with epsilon-greedy exploration over the (small, integer-valued)
observation vectors. It learns from reward in the deployment dynamics, where the brake
light is the agent's own previous action, instead of imitating logged experts: the online
track of the imitation-learning envs. As a predictor of the expert's action it reports
its own policy's probability of action 1: (1 - eps_eval) on the greedy action, eps_eval / 2
spread over both (so cross-entropy stays finite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from causalbench.methods import Method, Task


@dataclass(frozen=True)
class TabularQParams:
    """gamma: discount; lr_power: step size 1 / n(s, a)^lr_power after n visits (a polynomial rate,
    Even-Dar & Mansour 2003: converges, unlike a constant step); eps: exploration rate while learning;
    eps_eval: the policy's residual randomness when read as a predictor; max_states: refuse
    observation spaces larger than this."""

    gamma: float = 0.95
    lr_power: float = 0.6
    eps: float = 0.1
    eps_eval: float = 0.05
    max_states: int = 100_000


class TabularQ(Method):
    """Tabular Q-learning (Watkins 1989) on the episodic gym task: the online reference for imitation envs."""

    Params = TabularQParams
    track = "online"
    protocol = "online"

    @classmethod
    def applicable(cls, task: Task) -> str | None:
        if not task.episodic:
            return "tabular Q-learning needs a multi-step gym task"
        return None

    def _index(self, obs: np.ndarray) -> np.ndarray:
        codes = np.rint(np.atleast_2d(obs)).astype(np.int64) - self.low_
        codes = np.clip(codes, 0, self.shape_ - 1)
        return np.ravel_multi_index(codes.T, self.shape_)

    def interact(self, env: Any, budget: int) -> "TabularQ":
        """Learn for `budget` environment steps in a single (already reset) gymnasium env."""
        space = env.observation_space
        self.low_ = np.floor(space.low).astype(np.int64)
        self.shape_ = (np.ceil(space.high).astype(np.int64) - self.low_ + 1)
        if np.prod(self.shape_.astype(float)) > self.params.max_states:
            raise ValueError(f"observation space has {np.prod(self.shape_)} cells; too many for a table")
        n_actions = int(env.action_space.n)
        self.q_ = np.zeros((int(np.prod(self.shape_)), n_actions))
        visits = np.zeros_like(self.q_)
        gen = np.random.default_rng(self.seed)
        p = self.params
        obs, _ = env.reset(seed=int(gen.integers(2**31)))
        s = int(self._index(obs)[0])
        for _ in range(int(budget)):
            if gen.random() < p.eps:
                a = int(gen.integers(n_actions))
            else:
                row = self.q_[s]
                a = int(gen.choice(np.flatnonzero(row == row.max())))
            obs, reward, terminated, truncated, _ = env.step(a)
            s2 = int(self._index(obs)[0])
            target = reward + (0.0 if terminated else p.gamma * self.q_[s2].max())
            visits[s, a] += 1
            self.q_[s, a] += (target - self.q_[s, a]) / visits[s, a] ** p.lr_power
            if terminated or truncated:
                obs, _ = env.reset()
                s2 = int(self._index(obs)[0])
            s = s2
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        q = self.q_[self._index(np.asarray(X, dtype=float))]
        greedy = (q[:, 1] > q[:, 0]).astype(float)
        tie = q[:, 1] == q[:, 0]
        e = self.params.eps_eval
        return np.where(tie, 0.5, (1 - e) * greedy + e / 2)
