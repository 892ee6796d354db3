"""The scorer: the single authority that turns predictions into `Scores`.

It recomputes everything from the environment (test sets, truth, references)
and trusts nothing it is handed except the prediction arrays, which it checks.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..env.base import CausalEnv
from ..env.registry import make
from ..errors import CausalBenchError, ScoringError
from .scores import Scores
from .suite import EvalSuite, get_suite

EPS = 1e-6
Predictor = Callable[[np.ndarray], Any]


def _loss(kind: str, pred: np.ndarray, y: np.ndarray) -> float:
    if kind == "real":
        return float(np.mean((pred - y) ** 2))
    p = np.clip(pred, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def check_predictions(name: str, pred: Any, rows: int, kind: str) -> np.ndarray:
    """A length-`rows` float vector of finite predictions (probabilities in [0, 1] for binary targets)."""
    try:
        arr = np.asarray(pred, dtype=float)
    except (TypeError, ValueError):
        raise ScoringError(f"predictions for {name!r} are not numeric") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (rows,):
        raise ScoringError(f"predictions for {name!r} have shape {arr.shape}, expected ({rows},)")
    if not np.all(np.isfinite(arr)):
        raise ScoringError(f"predictions for {name!r} contain NaN or inf")
    if kind == "binary" and (arr.min() < 0 or arr.max() > 1):
        raise ScoringError(f"predictions for {name!r} must be probabilities in [0, 1] for a binary target")
    return arr


def predict_suite(predict: Predictor, suite: EvalSuite) -> dict[str, np.ndarray]:
    """Run `predict` once on all suite inputs stacked together, then split per input."""
    names = list(suite.inputs)
    stacked = np.concatenate([suite.inputs[k] for k in names])
    out = predict(stacked)
    arr = check_predictions("all inputs", out, len(stacked), suite.target_kind)
    bounds = np.cumsum([0] + [len(suite.inputs[k]) for k in names])
    return {k: arr[bounds[i]:bounds[i + 1]] for i, k in enumerate(names)}


def _check_all(preds: Mapping[str, Any], suite: EvalSuite) -> dict[str, np.ndarray]:
    if not isinstance(preds, Mapping):
        raise ScoringError(f"predictions must map input names to arrays, got {type(preds).__name__}")
    missing = [k for k in suite.inputs if k not in preds]
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise ScoringError(f"missing predictions for {', '.join(missing[:3])}{more}")
    extra = [k for k in preds if k not in suite.inputs]
    if extra:
        raise ScoringError(f"unknown prediction set(s) {', '.join(map(str, extra[:3]))}")
    return {k: check_predictions(k, preds[k], len(x), suite.target_kind) for k, x in suite.inputs.items()}


def score_predictions(preds: Mapping[str, Any], env: CausalEnv | str, seed: int = 0, n: int | None = None,
                      actions: np.ndarray | None = None) -> Scores:
    """Score stored predictions: `preds` maps every suite input name (see `suite_inputs`) to an array.

    `actions` (optional) are a policy's chosen action values on the decision units; without
    them, regret is that of the predictor's greedy policy.
    """
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    p = _check_all(preds, suite)
    kind = suite.target_kind
    loss = (lambda name, pred: _loss(kind, pred, suite.labels[name].astype(float)))
    risk = {k: loss(k, p[k]) for k in suite.test_sets}
    oracle_risk = {k: loss(k, suite.oracle[k]) for k in suite.test_sets}
    null_risk = {k: loss(k, np.full(len(suite.labels[k]), suite.null)) for k in suite.test_sets}
    shifted = [k for k in suite.test_sets if k != "id"]
    ood = {}
    for k in shifted:
        gap = null_risk[k] - oracle_risk[k]
        ood[k] = (risk[k] - oracle_risk[k]) / gap if gap > 1e-12 else float("nan")
    finite = [v for v in ood.values() if np.isfinite(v)]
    ood_score = float(np.mean(finite)) if finite else float("nan")
    by_kind: dict[str, list[float]] = {}
    for k, v in ood.items():
        if np.isfinite(v):
            by_kind.setdefault(suite.shift_kinds[k], []).append(v)
    link = by_kind.get("spurious_break", []) + by_kind.get("spurious_reversal", [])

    base = p["id"]
    reliance = {v: float(np.mean((base - p[key]) ** 2)) for v, key in suite.permutations.items()}
    total = sum(reliance.values())
    share = (lambda role: sum(r for v, r in reliance.items() if suite.roles[v] in role) / total if total > 0 else 0.0)

    errors: dict[str, list[float]] = {}
    for probe in suite.effects:
        errors.setdefault(probe.variable, []).append(float(np.mean(p[probe.input])) - probe.truth)
    all_err = np.concatenate([np.asarray(e) for e in errors.values()]) if errors else np.zeros(1)
    scale = suite.target_scale if suite.target_scale > 0 else 1.0
    effect_by_var = {v: float(np.sqrt(np.mean(np.square(e))) / scale) for v, e in errors.items()}

    regret = _regret(suite, p, actions)
    if suite.policy_input is not None:
        # Multi-step gym task: the greedy policy of the predictor (action 1 where P > 1/2), rolled out.
        regret = env.policy_regret((p[suite.policy_input] > 0.5).astype(np.int64), suite.seed)
    acc = None
    if kind == "binary":
        acc = {k: float(np.mean((p[k] > 0.5) == (suite.labels[k] == 1))) for k in suite.test_sets}
    return Scores(
        env_id=suite.env_id, seed=suite.seed, loss="mse" if kind == "real" else "cross_entropy",
        risk_id=risk["id"], risk={k: risk[k] for k in shifted}, risk_worst=max((risk[k] for k in shifted), default=risk["id"]),
        ood_score=ood_score, ood=ood, ood_by_kind={k: float(np.mean(v)) for k, v in by_kind.items()},
        ood_link=float(np.mean(link)) if link else float("nan"), reliance=reliance,
        spurious_reliance=float(share(("spurious",))), causal_reliance=float(share(("causal", "action"))),
        reliance_defined=total > 0, effect_error=float(np.sqrt(np.mean(np.square(all_err))) / scale),
        effect_error_by_variable=effect_by_var, regret=regret,
        accuracy_id=None if acc is None else acc["id"], accuracy=acc,
        oracle_risk=oracle_risk, null_risk=null_risk, fingerprints=dict(suite.fingerprints),
    )


def _regret(suite: EvalSuite, p: Mapping[str, np.ndarray], actions: np.ndarray | None) -> float | None:
    d = suite.decision
    if d is None:
        return None
    rows = np.arange(len(d.optimal))
    if actions is not None:
        acts = np.asarray(actions, dtype=float)
        if acts.shape != (len(rows),):
            raise ScoringError(f"actions must have shape ({len(rows)},), got {acts.shape}")
        lookup = {v: i for i, v in enumerate(d.values)}
        try:
            chosen = np.array([lookup[float(a)] for a in acts])
        except KeyError as err:
            raise ScoringError(f"action {err.args[0]} is not one of {list(d.values)}") from None
    else:
        env_utils = np.column_stack([p[name] for name in d.inputs])  # predicted outcome per action
        chosen = np.argmax(_utility_of(suite, env_utils, d.values), axis=1)
    return float(np.mean(d.utilities[rows, d.optimal] - d.utilities[rows, chosen]))


def _utility_of(suite: EvalSuite, predicted: np.ndarray, values: Sequence[float]) -> np.ndarray:
    env = make(suite.env_id)
    return np.column_stack([env.utility(predicted[:, j], np.full(len(predicted), a)) for j, a in enumerate(values)])


def score(predict: Predictor, env: CausalEnv | str, seed: int = 0, n: int | None = None) -> Scores:
    """Score a predictor: `predict` maps an (n, d) float array (columns = env.feature_names) to
    predictions of the target ((n,) values; probabilities P(Y = 1) for binary targets)."""
    if not callable(predict):
        raise ScoringError(f"predict must be callable, got {type(predict).__name__}")
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    return score_predictions(predict_suite(predict, suite), env, seed, n)


def regret(policy: Callable[[np.ndarray], Any], env: CausalEnv | str, seed: int = 0, n: int | None = None) -> float:
    """Regret of a policy mapping context rows (columns = env.context_variables) to action values."""
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    if suite.decision is None:
        raise ScoringError(f"{env.id} has no decision task")
    acts = policy(suite.decision.context)
    value = _regret(suite, {}, np.asarray(acts))
    assert value is not None
    return value


def seed_disagreement(predictions: Sequence[Mapping[str, np.ndarray]], env: CausalEnv | str, seed: int = 0,
                      n: int | None = None) -> float:
    """Path dependence: mean over pairs of predictors of their disagreement on the shifted test sets,
    normalised by Var(Y) (real target) or the label-disagreement rate (binary)."""
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    if len(predictions) < 2:
        raise ScoringError("seed disagreement needs predictions from at least two seeds")
    shifted = [k for k in suite.test_sets if k != "id"] or ["id"]
    checked = [{k: check_predictions(k, pr[k] if k in pr else None, len(suite.inputs[k]), suite.target_kind)
                for k in shifted} for pr in predictions]
    var_y = suite.target_scale ** 2 or 1.0
    values = []
    for a, b in itertools.combinations(checked, 2):
        if suite.target_kind == "real":
            values.append(np.mean([np.mean((a[k] - b[k]) ** 2) for k in shifted]) / var_y)
        else:
            values.append(np.mean([np.mean((a[k] > 0.5) != (b[k] > 0.5)) for k in shifted]))
    return float(np.mean(values))


def suite_inputs(env: CausalEnv | str, seed: int = 0, n: int | None = None) -> dict[str, np.ndarray]:
    """Every named input the scorer needs predictions for (test sets and probes)."""
    return dict(get_suite(env, seed, n).inputs)


__all__ = ["score", "score_predictions", "regret", "seed_disagreement", "suite_inputs", "CausalBenchError"]
