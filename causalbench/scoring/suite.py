"""The evaluation suite of one (env, evaluation seed): every input a predictor is asked about, plus the truth.

Scoring from stored predictions needs the predictor's outputs on *all* probe inputs, not only
the test sets: the permuted copies for reliance, the do()-samples for effect errors, the
per-action copies of every test set for regret, the observation cells of a multi-step task.
The suite names each input, so a leaderboard can re-score a file of predictions without
running anyone's code. Evaluation streams live in their own namespace ("test"), disjoint from
every training stream.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..env.base import CausalEnv
from ..env.registry import make
from ..errors import ScoringError
from ..seeding import check_seed, rng

EFFECT_UNITS = 2000
POLICY_INPUT = "policy:cells"
_CACHE: "OrderedDict[tuple, EvalSuite]" = OrderedDict()
_CACHE_SIZE = 24


@dataclass(frozen=True)
class EffectProbe:
    """do(variable = value): the input name, the true E[Y | do], its standard error (0 if exact), and
    whether `value` is the baseline a0 the variable's contrasts are taken against."""

    variable: str
    value: float
    input: str
    truth: float
    se: float
    baseline: bool = False


@dataclass(frozen=True)
class DecisionTruth:
    """One test distribution's decision problem: per-action inputs and exact expected utilities."""

    inputs: tuple[str, ...]    # one input per action value (the test set's rows with the action set)
    values: np.ndarray         # (n, K) E_test[utility | do(action = a), context] of each row


@dataclass(frozen=True)
class PolicyTruth:
    """A multi-step task: the input holding every observation cell, and per level set the values of the
    best memoryless policy and of the uniformly random policy (exact)."""

    input: str
    optimal: dict[str, float]
    random: dict[str, float]


@dataclass(frozen=True)
class EvalSuite:
    """Inputs and ground truth for scoring on one environment and evaluation seed."""

    env_id: str
    seed: int
    target_kind: str
    target_scale: float
    null: float
    variables: tuple[str, ...]
    roles: dict[str, str]
    test_sets: tuple[str, ...]
    shift_kinds: dict[str, str]          # shifted test set -> kind of shift
    link_shifts: tuple[str, ...]         # shifted test sets that break or reverse a non-causal link
    inputs: dict[str, np.ndarray]        # feature rows (rendered) of every input
    latents: dict[str, np.ndarray]       # the observed-variable rows behind every input (for references)
    labels: dict[str, np.ndarray]
    bayes: dict[str, np.ndarray]         # Bayes predictor of each test set on its own rows
    permutations: dict[str, str]
    effects: tuple[EffectProbe, ...]
    action_values: tuple[float, ...] = ()
    decisions: dict[str, DecisionTruth] | None = None
    policy: PolicyTruth | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return sum(len(x) for x in self.inputs.values())

    def input_shapes(self) -> dict[str, int]:
        return {name: len(x) for name, x in self.inputs.items()}


def _fingerprint(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def build_suite(env: CausalEnv, seed: int = 0, n: int | None = None, n_effect: int = EFFECT_UNITS) -> EvalSuite:
    """Generate every test set and probe for (env, seed); deterministic in (env, seed, n, n_effect)."""
    check_seed(seed)
    n = n or env.test_size
    truth = env.truth
    inputs: dict[str, np.ndarray] = {}
    latents: dict[str, np.ndarray] = {}

    def add(name: str, V: np.ndarray) -> None:
        latents[name] = np.ascontiguousarray(V)
        inputs[name] = np.ascontiguousarray(env.render(V))

    labels, bayes, fingerprints = {}, {}, {}
    for name in env.test_set_names():
        sample, _ = env.test_sample(name, seed, n)
        add(name, sample.columns(env.variables))
        labels[name] = sample[env.target].copy()
        bayes[name] = np.asarray(truth.bayes(latents[name], name), dtype=float)
        if not np.all(np.isfinite(bayes[name])):
            raise ScoringError(f"{env.id}: the Bayes predictor of {name!r} is undefined on some of its own rows")
        fingerprints[name] = _fingerprint(inputs[name], labels[name])

    id_V = latents["id"]
    permutations = {}
    for j, var in enumerate(env.variables):
        V = id_V.copy()
        V[:, j] = id_V[rng(seed, env.stream, "test", "permute", var).permutation(len(V)), j]
        add(f"permute:{var}", V)
        permutations[var] = f"permute:{var}"

    units = env.mixture(n_effect, seed, "test", "effects", paired=True)
    effects = []
    for var in env.variables:
        grid, a0 = truth.effect_grid(var), truth.effect_baseline(var)
        exact_truth = truth.true_effect(var, grid)
        for i, a in enumerate(grid):
            s = units.sample({var: a})
            key = f"do:{var}={a:g}"
            add(key, s.columns(env.variables))
            y = s[env.target]
            if exact_truth is not None:
                effects.append(EffectProbe(var, a, key, float(exact_truth[i]), 0.0, a == a0))
            else:
                # Paired estimate on the same units the predictor sees: the error of mean(f) - mean(Y)
                # has variance Var(f - Y) / n; the probe records the se of mean(Y).
                effects.append(EffectProbe(var, a, key, float(y.mean()), float(y.std() / np.sqrt(len(y))), a == a0))

    decisions = _decisions(env, latents, add) if _is_decision_env(env) else None
    policy = None
    if env.episodic:
        add(POLICY_INPUT, np.asarray(env.policy_cells(), dtype=float))
        levels = env.test_set_names()
        policy = PolicyTruth(POLICY_INPUT, {t: env.best_policy(t)[1] for t in levels},
                             {t: env.policy_value(np.full(len(latents[POLICY_INPUT]), 0.5), t) for t in levels})
    shift_kinds = {s.test_name(v): s.kind for s in env.shifts for v in s.severities}
    return EvalSuite(env.id, int(seed), env.target_kind, truth.target_scale, truth.null, env.variables,
                     dict(env.roles), tuple(env.test_set_names()), shift_kinds,
                     tuple(s.test_name(v) for s in env.shifts if s.breaks_link for v in s.severities),
                     inputs, latents, labels, bayes, permutations, tuple(effects), tuple(env.action_values),
                     decisions, policy, fingerprints)


def _is_decision_env(env: CausalEnv) -> bool:
    """One-step decision envs whose features are exactly the pre-action context plus the action."""
    return (env.action is not None and not env.episodic
            and set(env.variables) == set(env.context_variables) | {env.action})


def _decisions(env: CausalEnv, latents: dict[str, np.ndarray], add: Any) -> dict[str, DecisionTruth]:
    j = env.variables.index(env.action)
    ctx_cols = [env.variables.index(c) for c in env.context_variables]
    out = {}
    for name in env.test_set_names():
        V = latents[name]
        keys = []
        for a in env.action_values:
            Va = V.copy()
            Va[:, j] = a
            key = f"act:{name}:{env.action}={a:g}"
            add(key, Va)
            keys.append(key)
        values = env.truth.decision_values(V[:, ctx_cols], name)
        if not np.all(np.isfinite(values)):
            raise ScoringError(f"{env.id}: decision values of {name!r} are undefined on some of its rows")
        out[name] = DecisionTruth(tuple(keys), values)
    return out


def get_suite(env: CausalEnv | str, seed: int = 0, n: int | None = None) -> EvalSuite:
    """The (cached) suite for an env id or instance; built once per (env, options, seed, n)."""
    env = make(env) if isinstance(env, str) else env
    key = (env.id, tuple(sorted((k, repr(v)) for k, v in env.options.items())), int(check_seed(seed).entropy), n)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    suite = build_suite(env, seed, n)
    _CACHE[key] = suite
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return suite
