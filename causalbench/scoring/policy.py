"""Scoring a policy directly: expected return and normalised regret on the training distribution and every shift.

A policy is an observation -> action function or any object with a stable-baselines3-style
`predict(obs, deterministic=True)` (an SB3 model). It is handed a batch of gymnasium
observations, exactly as the gym env would show them (float32, clipped to the observation
space): the context variables of a one-step decision env, every observation cell of a
multi-step task. It must be memoryless and return one action index per row. Values are exact:
expected utilities given each test unit's context (one-step envs, averaged over the suite's
test units), or the exact expected episode return of the memoryless policy (multi-step envs,
dynamic programming over the hidden state, no rollouts).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..env.base import CausalEnv
from ..env.gym_registration import NAMESPACE
from ..env.registry import make
from ..errors import ScoringError
from .score import as_array
from .suite import get_suite


@dataclass(frozen=True)
class PolicyScores:
    """Per test set: the policy's expected return, the best policy's, the random policy's, and the
    normalised regret (U_opt - U) / (U_opt - U_random) (0 = optimal on observed context, 1 = random)."""

    env_id: str
    seed: int
    returns: dict[str, float]
    optimal: dict[str, float]
    random: dict[str, float]
    regret: dict[str, float]

    @property
    def regret_id(self) -> float:
        return self.regret["id"]

    @property
    def regret_worst(self) -> float:
        """The largest regret over the shifted test sets (the training regret if there are none)."""
        return max((v for k, v in self.regret.items() if k != "id"), default=self.regret["id"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """One line per test set: return, best and random policies' returns, regret."""
        width = max(len(t) for t in self.returns)
        lines = [f"{self.env_id} (evaluation seed {self.seed})",
                 f"{'test set':<{width}}  {'return':>8}  {'optimal':>8}  {'random':>8}  {'regret':>7}"]
        lines += [f"{t:<{width}}  {self.returns[t]:8.3f}  {self.optimal[t]:8.3f}  {self.random[t]:8.3f}  "
                  f"{self.regret[t]:7.3f}" for t in self.returns]
        return "\n".join(lines)


def _actions(policy: Any, obs: np.ndarray, n_actions: int) -> np.ndarray:
    """Integer actions of `policy` on a batch of observation rows (float32, as the gymnasium env emits them)."""
    obs = np.asarray(obs, dtype=np.float32)
    if hasattr(policy, "predict"):            # a stable-baselines3 model: predict -> (actions, states)
        out = policy.predict(obs, deterministic=True)
        acts = out[0] if isinstance(out, tuple) else out
    elif callable(policy):
        acts = policy(obs)
    else:
        raise ScoringError(f"a policy must be an observation -> action function or have predict(), "
                           f"got {type(policy).__name__}")
    acts = as_array(acts)
    if acts.ndim == 2 and acts.shape[1] == 1:
        acts = acts[:, 0]
    if acts.shape != (len(obs),):
        raise ScoringError(f"the policy got a batch of observations of shape {obs.shape} and must return one "
                           f"action per row, shape ({len(obs)},); got shape {acts.shape}")
    if not np.all(np.isin(acts, np.arange(n_actions))):
        raise ScoringError(f"the policy must return action indices in 0..{n_actions - 1}, got {np.unique(acts)[:5]}")
    return acts.astype(np.int64)


def _environment(env: Any) -> CausalEnv:
    """An env instance, an id, or a gymnasium id ("causalbench/<id>")."""
    if isinstance(env, str):
        return make(env.removeprefix(f"{NAMESPACE}/"))
    if not isinstance(env, CausalEnv):
        raise ScoringError(f"env must be a causalbench env or its id, got {type(env).__name__}")
    return env


def score_policy(policy: Any, env: CausalEnv | str, seed: int = 0, n: int | None = None) -> PolicyScores:
    """Expected return and normalised regret of `policy` on the training distribution and every shift.

    `policy`: an SB3 model (`predict(obs, deterministic=True)`) or a function from a batch of
    observations (n, d) to n action indices. `seed`: the evaluation seed (test units of one-step
    envs); `n`: test units per test set (default: the env's test size).
    """
    env = _environment(env)
    suite = get_suite(env, seed, n)
    returns, optimal, random = {}, {}, {}
    if suite.policy is not None:
        cells = suite.inputs[suite.policy.input]
        table = _actions(policy, cells, 2).astype(float)
        for t in suite.test_sets:
            returns[t] = env.policy_value(table, t)
            optimal[t], random[t] = suite.policy.optimal[t], suite.policy.random[t]
    elif suite.decisions is not None:
        from ..env.gym import observation_box  # gymnasium only when a one-step decision policy is scored
        box = observation_box(env, env.context_variables)
        ctx_cols = [env.variables.index(c) for c in env.context_variables]
        for t, d in suite.decisions.items():
            obs = np.clip(suite.latents[t][:, ctx_cols].astype(np.float32), box.low, box.high)
            chosen = _actions(policy, obs, len(suite.action_values))
            returns[t] = float(d.values[np.arange(len(chosen)), chosen].mean())
            optimal[t], random[t] = float(d.values.max(axis=1).mean()), float(d.values.mean())
    else:
        raise ScoringError(f"{env.id} is a prediction task (no action variable and no multi-step task): score its "
                           f"predictor with cb.score(predict, {env.id!r})")
    regret = {}
    for t in returns:
        gap = optimal[t] - random[t]
        if not gap > 1e-12:
            raise ScoringError(f"{env.id}: on {t!r} the best policy is no better than a random one")
        regret[t] = (optimal[t] - returns[t]) / gap
    return PolicyScores(env.id, int(seed), returns, optimal, random, regret)
