"""Scoring a policy directly: expected return and normalised regret on the training distribution and every shift.

A policy is an observation -> action function (the gymnasium observation: the context
variables of a one-step decision env, the observation cell of a multi-step task) or any
object with a stable-baselines3-style `predict(obs, deterministic=True)`. Values are exact:
expected utilities given each test unit's context (one-step envs), or the exact expected
episode return of the memoryless policy (multi-step envs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..env.base import CausalEnv
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


def _actions(policy: Any, obs: np.ndarray, n_actions: int) -> np.ndarray:
    """Integer actions of `policy` on observation rows (float32, as the gymnasium env emits them)."""
    obs = np.asarray(obs, dtype=np.float32)
    if callable(policy):
        acts = policy(obs)
    elif hasattr(policy, "predict"):          # a stable-baselines3 model: predict -> (actions, states)
        out = policy.predict(obs, deterministic=True)
        acts = out[0] if isinstance(out, tuple) else out
    else:
        raise ScoringError(f"a policy must be callable or have predict(), got {type(policy).__name__}")
    acts = as_array(acts).reshape(-1)
    if acts.shape != (len(obs),) or not np.all(np.isin(acts, np.arange(n_actions))):
        raise ScoringError(f"the policy must return one action in 0..{n_actions - 1} per observation row; got "
                           f"shape {acts.shape}")
    return acts.astype(np.int64)


def score_policy(policy: Any, env: CausalEnv | str, seed: int = 0, n: int | None = None) -> PolicyScores:
    """Expected return and normalised regret of `policy` on the training distribution and every shift."""
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    returns, optimal, random = {}, {}, {}
    if suite.policy is not None:
        cells = suite.inputs[suite.policy.input]
        table = _actions(policy, cells, 2).astype(float)
        for t in suite.test_sets:
            returns[t] = env.policy_value(table, t)
            optimal[t], random[t] = suite.policy.optimal[t], suite.policy.random[t]
    elif suite.decisions is not None:
        ctx_cols = [env.variables.index(c) for c in env.context_variables]
        for t, d in suite.decisions.items():
            chosen = _actions(policy, suite.latents[t][:, ctx_cols], len(suite.action_values))
            returns[t] = float(d.values[np.arange(len(chosen)), chosen].mean())
            optimal[t], random[t] = float(d.values.max(axis=1).mean()), float(d.values.mean())
    else:
        raise ScoringError(f"{env.id} has no decision task (no action variable and no multi-step task)")
    regret = {}
    for t in returns:
        gap = optimal[t] - random[t]
        if not gap > 1e-12:
            raise ScoringError(f"{env.id}: on {t!r} the best policy is no better than a random one")
        regret[t] = (optimal[t] - returns[t]) / gap
    return PolicyScores(env.id, int(seed), returns, optimal, random, regret)
