"""The scorer: the single authority that turns predictions into `Scores`.

It recomputes everything from the environment (test sets, truth, references) and trusts
nothing it is handed except the prediction arrays, which it checks. Definitions are those
of DESIGN.md "Metrics, v2" (see `Scores` for each field's unit).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..env.base import CausalEnv
from ..env.registry import make
from ..errors import ScoringError
from ..env.roles import CAUSAL_ROLES, ROLES, SPURIOUS_ROLES
from .scores import Scores
from .suite import EvalSuite, get_suite

EPS = 1e-6
Predictor = Callable[[np.ndarray], Any]


def as_array(pred: Any) -> np.ndarray:
    """Predictions as a float array: numpy, lists, pandas, and torch tensors (detached, on the CPU)."""
    if hasattr(pred, "detach") and hasattr(pred, "cpu"):
        pred = pred.detach().cpu().numpy()
    try:
        return np.asarray(pred, dtype=float)
    except (TypeError, ValueError):
        raise ScoringError(f"predictions must be numeric, got {type(pred).__name__}") from None


def check_predictions(name: str, pred: Any, rows: int, kind: str) -> np.ndarray:
    """A length-`rows` float vector of finite predictions (probabilities P(Y = 1) for binary targets;
    an (n, 2) `predict_proba` output is accepted and its second column used)."""
    arr = as_array(pred)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif kind == "binary" and arr.ndim == 2 and arr.shape[1] == 2:
        arr = arr[:, 1]
    if arr.shape != (rows,):
        raise ScoringError(f"predictions for {name} have shape {arr.shape}, expected ({rows},)")
    if not np.all(np.isfinite(arr)):
        raise ScoringError(f"predictions for {name} contain NaN or inf")
    if kind == "binary" and (arr.min() < 0 or arr.max() > 1):
        raise ScoringError(f"predictions for {name} must be probabilities in [0, 1] for a binary target")
    return arr


PREDICT_CHUNK_VALUES = 32_000_000   # at most ~256 MB of float64 inputs per predict call


def predict_suite(predict: Predictor, suite: EvalSuite) -> dict[str, np.ndarray]:
    """Run `predict` on all suite inputs stacked together (in as few calls as memory allows), split per input."""
    names = list(suite.inputs)
    out: dict[str, np.ndarray] = {}
    for chunk in _chunks(names, suite):
        stacked = np.concatenate([suite.inputs[k] for k in chunk]) if len(chunk) > 1 else suite.inputs[chunk[0]]
        what = (f"the {len(stacked)} stacked rows of {suite.env_id}'s {len(chunk)} suite inputs "
                f"({'test sets and probes' if len(chunk) == len(names) else f'{chunk[0]!r} to {chunk[-1]!r}'})")
        arr = check_predictions(what, predict(stacked), len(stacked), suite.target_kind)
        bounds = np.cumsum([0] + [len(suite.inputs[k]) for k in chunk])
        out.update({k: arr[bounds[i]:bounds[i + 1]] for i, k in enumerate(chunk)})
    if suite.target_kind == "binary" and sum(map(len, out.values())) > 20 and \
            all(np.all((a == 0) | (a == 1)) for a in out.values()):
        warnings.warn(f"{suite.env_id}: the predictor returns hard 0/1 labels for a binary target; cross-entropy "
                      "needs probabilities P(Y = 1) (use predict_proba)", UserWarning, stacklevel=3)
    return out


def _chunks(names: list[str], suite: EvalSuite) -> list[list[str]]:
    """Consecutive groups of inputs of at most PREDICT_CHUNK_VALUES values (one group for every small env)."""
    groups: list[list[str]] = [[]]
    size = 0
    for k in names:
        cells = suite.inputs[k].size
        if groups[-1] and size + cells > PREDICT_CHUNK_VALUES:
            groups.append([])
            size = 0
        groups[-1].append(k)
        size += cells
    return groups


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
    return {k: check_predictions(f"test set {k!r}" if k in suite.test_sets else f"input {k!r}", preds[k], len(x),
                                 suite.target_kind) for k, x in suite.inputs.items()}


def _loss(kind: str, pred: np.ndarray, y: np.ndarray) -> float:
    if kind == "real":
        return float(np.mean((pred - y) ** 2))
    p = np.clip(pred, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def pointwise_excess(kind: str, pred: np.ndarray, bayes: np.ndarray, var_y: float) -> float:
    """E_x[the expected loss of f at x minus that of the Bayes predictor at x]: (f - B)^2 / Var(Y), or for a
    binary target B log(B'/f') + (1 - B) log((1 - B')/(1 - f')) in nats, where ' clips to [EPS, 1 - EPS]
    exactly as the cross-entropy risk does (so it is 0 for f = B). Equal in expectation to R(f) - R(Bayes),
    and never negative: the clipped Bayes prediction minimises the clipped expected loss at every x."""
    if kind == "real":
        return float(np.mean((pred - bayes) ** 2) / var_y)
    b = np.clip(bayes, 0.0, 1.0)
    cf, cb = np.clip(pred, EPS, 1 - EPS), np.clip(b, EPS, 1 - EPS)
    gap = b * (np.log(cb) - np.log(cf)) + (1 - b) * (np.log1p(-cb) - np.log1p(-cf))
    return float(np.mean(gap))


def score_predictions(preds: Mapping[str, Any], env: CausalEnv | str, seed: int = 0, n: int | None = None,
                      actions: Mapping[str, np.ndarray] | None = None) -> Scores:
    """Score stored predictions: `preds` maps every suite input name (see `suite_inputs`) to an array.

    `actions` (decision envs, optional): per test set, the action values a policy took on that test
    set's rows; without them, regret is that of the predictor's greedy policy.
    """
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    p = _check_all(preds, suite)
    kind, var_y = suite.target_kind, suite.target_scale ** 2
    if not var_y > 0:
        raise ScoringError(f"{suite.env_id}: the target has zero variance; no risk unit")
    risk = {t: _loss(kind, p[t], suite.labels[t].astype(float)) for t in suite.test_sets}
    bayes_risk = {t: _loss(kind, suite.bayes[t], suite.labels[t].astype(float)) for t in suite.test_sets}
    excess = {t: pointwise_excess(kind, p[t], suite.bayes[t], var_y) for t in suite.test_sets}
    shifted = [t for t in suite.test_sets if t != "id"]
    by_kind: dict[str, list[float]] = {}
    for t in shifted:
        by_kind.setdefault(suite.shift_kinds[t], []).append(excess[t])
    nan = float("nan")
    reliance = {v: float(np.mean((p["id"] - p[key]) ** 2) / var_y) for v, key in suite.permutations.items()}
    by_role = {r: sum(x for v, x in reliance.items() if suite.roles[v] == r) for r in ROLES}
    total = sum(reliance.values())
    share = (lambda roles: sum(by_role[r] for r in roles) / total if total > 0 else 0.0)
    contrast, level = _effect_errors(suite, p)
    regrets = _regrets(env, suite, p, actions)
    acc = None
    if kind == "binary":
        acc = {t: float(np.mean((p[t] > 0.5) == (suite.labels[t] == 1))) for t in suite.test_sets}
    return Scores(
        env_id=suite.env_id, seed=suite.seed, loss="mse" if kind == "real" else "cross_entropy",
        risk_id=risk["id"], risk=risk, bayes_risk=bayes_risk, excess_risk=excess, excess_risk_id=excess["id"],
        ood_link=float(np.mean([excess[t] for t in suite.link_shifts])) if suite.link_shifts else nan,
        ood_worst=max((excess[t] for t in shifted), default=nan),
        ood_mean=float(np.mean([excess[t] for t in shifted])) if shifted else nan,
        ood_by_kind={k: float(np.mean(v)) for k, v in by_kind.items()},
        reliance=reliance, reliance_by_role=by_role, causal_reliance=float(share(CAUSAL_ROLES)),
        spurious_reliance=float(share(SPURIOUS_ROLES)),
        spurious_reliance_abs=float(sum(by_role[r] for r in SPURIOUS_ROLES)), reliance_defined=total > 0,
        effect_error=float(np.sqrt(np.mean(np.square(list(contrast.values()))))) if contrast else nan,
        effect_error_by_variable=contrast,
        effect_level_error=float(np.sqrt(np.mean(np.square(list(level.values()))))) if level else nan,
        effect_level_error_by_variable=level,
        **regrets, accuracy_id=None if acc is None else acc["id"], accuracy=acc,
        fingerprints=dict(suite.fingerprints),
    )


def _effect_errors(suite: EvalSuite, p: Mapping[str, np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    """Per variable: RMS contrast error over a != a0 and the level error at a0, both in sd(Y)."""
    scale = suite.target_scale
    probes: dict[str, list] = {}
    for probe in suite.effects:
        probes.setdefault(probe.variable, []).append(probe)
    contrast, level = {}, {}
    for var, items in probes.items():
        base = next(q for q in items if q.baseline)
        f0 = float(np.mean(p[base.input]))
        errs = [(float(np.mean(p[q.input])) - f0) - (q.truth - base.truth) for q in items if q is not base]
        contrast[var] = float(np.sqrt(np.mean(np.square(errs)))) / scale if errs else 0.0
        level[var] = abs(f0 - base.truth) / scale
    return contrast, level


def _regrets(env: CausalEnv, suite: EvalSuite, p: Mapping[str, np.ndarray],
             actions: Mapping[str, np.ndarray] | None) -> dict[str, Any]:
    """Normalised regret per test set: (U_opt - U_f) / (U_opt - U_random)."""
    if suite.decisions is None and suite.policy is None:
        return {}
    if suite.decisions is not None:
        chosen = {t: _chosen(env, suite, p, t, actions) for t in suite.decisions}
        values = {t: _one_step(suite.decisions[t].values, chosen[t], t, env.id) for t in suite.decisions}
        const = np.full(len(suite.decisions["id"].values), int(np.argmax(
            env.utility(np.full(len(suite.action_values), suite.null), np.asarray(suite.action_values)))))
        constant = _one_step(suite.decisions["id"].values, const, "id", env.id)
    else:
        pol = suite.policy
        table = (p[pol.input] > 0.5).astype(float)
        values = {t: _normalise(pol.optimal[t], env.policy_value(table, t), pol.random[t], t, env.id)
                  for t in pol.optimal}
        const_table = np.full(len(table), float(suite.null > 0.5))
        constant = _normalise(pol.optimal["id"], env.policy_value(const_table, "id"), pol.random["id"], "id", env.id)
    shifted = [values[t] for t in values if t != "id"]
    return {"regret": values["id"], "regret_by_test_set": values, "regret_worst": max(shifted, default=None),
            "regret_constant": constant}


def _chosen(env: CausalEnv, suite: EvalSuite, p: Mapping[str, np.ndarray], test_set: str,
            actions: Mapping[str, np.ndarray] | None) -> np.ndarray:
    """Index of the action the policy takes on each row of a test set."""
    d = suite.decisions[test_set]  # type: ignore[index]
    values = np.asarray(suite.action_values)
    if actions is not None:
        if test_set not in actions:
            raise ScoringError(f"actions are missing for test set {test_set!r}")
        acts = np.asarray(actions[test_set], dtype=float)
        if acts.shape != (len(d.values),):
            raise ScoringError(f"actions for {test_set!r} must have shape ({len(d.values)},), got {acts.shape}")
        hit = acts[:, None] == values[None, :]
        if not hit.any(axis=1).all():
            bad = acts[~hit.any(axis=1)][0]
            raise ScoringError(f"action {bad:g} is not one of {[float(v) for v in values]}")
        return np.argmax(hit, axis=1)
    predicted = np.column_stack([p[name] for name in d.inputs])
    utils = np.column_stack([env.utility(predicted[:, k], np.full(len(predicted), a)) for k, a in enumerate(values)])
    return np.argmax(utils, axis=1)


def _one_step(values: np.ndarray, chosen: np.ndarray, test_set: str, env_id: str) -> float:
    rows = np.arange(len(values))
    return _normalise(float(values.max(axis=1).mean()), float(values[rows, chosen].mean()), float(values.mean()),
                      test_set, env_id)


def _normalise(optimal: float, achieved: float, random: float, test_set: str, env_id: str) -> float:
    gap = optimal - random
    if not gap > 1e-12:
        raise ScoringError(f"{env_id}: on {test_set!r} the best policy is no better than a random one; "
                           "regret is undefined (the env's decision task needs redesign)")
    return float((optimal - achieved) / gap)


def score(predict: Predictor, env: CausalEnv | str, seed: int = 0, n: int | None = None) -> Scores:
    """Score a predictor: `predict` maps an (n, d) float array (columns = env.feature_names) to
    predictions of the target ((n,) values; probabilities P(Y = 1) for binary targets)."""
    if not callable(predict):
        raise ScoringError(f"predict must be callable, got {type(predict).__name__}")
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    return score_predictions(predict_suite(predict, suite), env, seed, n)


def seed_disagreement(predictions: Sequence[Mapping[str, np.ndarray]], env: CausalEnv | str, seed: int = 0,
                      n: int | None = None) -> float:
    """Path dependence: mean over pairs of predictors of their disagreement on the shifted test sets,
    normalised by Var(Y) (real target) or the label-disagreement rate (binary)."""
    env = make(env) if isinstance(env, str) else env
    suite = get_suite(env, seed, n)
    if len(predictions) < 2:
        raise ScoringError("seed disagreement needs predictions from at least two seeds")
    shifted = [k for k in suite.test_sets if k != "id"] or ["id"]
    checked = [{k: check_predictions(f"test set {k!r}", pr[k] if k in pr else None, len(suite.inputs[k]),
                                     suite.target_kind) for k in shifted} for pr in predictions]
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
