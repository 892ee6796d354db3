"""The evaluation suite of one (env, seed): every input a predictor is asked about, plus the truth.

Scoring from stored predictions needs the predictor's outputs on *all* probe
inputs, not only the test sets: the permuted copies for reliance, the do()-
samples for effect error, the action-set copies for regret. The suite names
each input, so a leaderboard can re-score a file of predictions without
running anyone's code.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..env.base import CausalEnv
from ..env.registry import make
from ..errors import SCMError
from ..seeding import check_seed, rng

EFFECT_UNITS = 2000
POLICY_INPUT = "policy:cells"
_CACHE: "OrderedDict[tuple, EvalSuite]" = OrderedDict()
_CACHE_SIZE = 24


@dataclass(frozen=True)
class EffectProbe:
    """do(variable = value): the input name, the true E[Y | do], and its standard error (0 if exact)."""

    variable: str
    value: float
    input: str
    truth: float
    se: float


@dataclass(frozen=True)
class DecisionProbe:
    """Units for regret: per-action inputs, paired potential utilities and the optimal context policy."""

    action: str
    values: tuple[float, ...]
    inputs: tuple[str, ...]
    context: np.ndarray        # (n, k) observed pre-action variables
    utilities: np.ndarray      # (n, K) utility of each unit's potential outcome under each action
    optimal: np.ndarray        # (n,) index of the best action given the context (not the hidden state)


@dataclass(frozen=True)
class EvalSuite:
    """Inputs and ground truth for scoring on one environment and seed."""

    env_id: str
    seed: int
    target_kind: str
    target_scale: float
    null: float
    variables: tuple[str, ...]
    roles: dict[str, str]
    test_sets: tuple[str, ...]
    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    oracle: dict[str, np.ndarray]
    permutations: dict[str, str]
    effects: tuple[EffectProbe, ...]
    decision: DecisionProbe | None
    fingerprints: dict[str, str] = field(default_factory=dict)
    policy_input: str | None = None    # multi-step tasks: the input holding every observation cell
    shift_kinds: dict[str, str] = field(default_factory=dict)  # shifted test set -> shift kind

    @property
    def n_rows(self) -> int:
        return sum(len(x) for x in self.inputs.values())

    def input_shapes(self) -> dict[str, int]:
        return {name: len(x) for name, x in self.inputs.items()}


def _fingerprint(*arrays: np.ndarray) -> str:
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def build_suite(env: CausalEnv, seed: int = 0, n: int | None = None, n_effect: int = EFFECT_UNITS) -> EvalSuite:
    """Generate every test set and probe for (env, seed); deterministic in (env, seed, n, n_effect)."""
    check_seed(seed)
    n = n or env.test_size
    V_of = (lambda s: s.columns(env.variables))
    inputs: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    oracle: dict[str, np.ndarray] = {}
    fingerprints: dict[str, str] = {}
    id_V: np.ndarray | None = None
    for name in env.test_set_names():
        sample, _ = env.test_sample(name, seed, n)
        V = V_of(sample)
        inputs[name] = np.ascontiguousarray(env.render(V))
        labels[name] = sample[env.target].copy()
        oracle[name] = np.asarray(env.oracle(V), dtype=float)
        fingerprints[name] = _fingerprint(inputs[name], labels[name])
        if name == "id":
            id_V = V

    permutations: dict[str, str] = {}
    assert id_V is not None
    for j, var in enumerate(env.variables):
        V = id_V.copy()
        V[:, j] = id_V[rng(seed, env.id, "test", "permute", var).permutation(len(V)), j]
        key = f"permute:{var}"
        inputs[key] = np.ascontiguousarray(env.render(V))
        permutations[var] = key

    units = env.mixture(n_effect, seed, "test", "effects", paired=True)
    effects = []
    for var in env.variables:
        grid = env.effect_grid(var)
        truth = env.true_effect(var, grid)
        for i, a in enumerate(grid):
            s = units.sample({var: a})
            key = f"do:{var}={a:g}"
            inputs[key] = np.ascontiguousarray(env.render(V_of(s)))
            y = s[env.target]
            if truth is not None:
                effects.append(EffectProbe(var, a, key, float(truth[i]), 0.0))
            else:
                # Paired estimate on the same units the predictor sees: the error mean(f) - mean(Y)
                # has variance Var(f - Y) / n, recorded as the probe's se.
                effects.append(EffectProbe(var, a, key, float(y.mean()), float(y.std() / np.sqrt(len(y)))))

    decision = _decision_probe(env, seed, n, inputs)
    cells = env.policy_inputs()
    if cells is not None:
        inputs[POLICY_INPUT] = np.ascontiguousarray(cells, dtype=float)
    return EvalSuite(env.id, int(seed), env.target_kind, env.target_scale, env.null_prediction, env.variables,
                     dict(env.roles), tuple(env.test_set_names()), inputs, labels, oracle, permutations,
                     tuple(effects), decision, fingerprints, POLICY_INPUT if cells is not None else None,
                     {s.test_name(v): s.kind for s in env.shifts for v in s.severities})


def _decision_probe(env: CausalEnv, seed: int, n: int, inputs: dict[str, np.ndarray]) -> DecisionProbe | None:
    """Regret units: only when every observed variable is either pre-action context or the action itself."""
    A = env.action
    if A is None or set(env.variables) != set(env.context_variables) | {A}:
        return None
    units = env.mixture(n, seed, "test", "decision", paired=True)
    base = units.sample()
    V = base.columns(env.variables)
    ctx = base.columns(env.context_variables)
    try:
        values = env.decision_values(ctx)
    except SCMError:
        return None
    j = env.variables.index(A)
    names, utils = [], []
    for a in env.action_values:
        Va = V.copy()
        Va[:, j] = a
        key = f"act:{A}={a:g}"
        inputs[key] = np.ascontiguousarray(env.render(Va))
        names.append(key)
        y = units.sample({A: a})[env.target]
        utils.append(env.utility(y, np.full(len(y), a)))
    return DecisionProbe(A, tuple(env.action_values), tuple(names), ctx, np.column_stack(utils),
                         np.argmax(values, axis=1))


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
