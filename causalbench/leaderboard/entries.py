"""Leaderboard entries: what one is made of, what kind it is, and whether it is ranked.

Three kinds, one JSON shape (`entries/<name>.json`, format `causalbench-leaderboard-entry`, version 2):

- "method": a method the harness evaluated itself, on hidden instances drawn from secret seeds, in isolated
  workers. Ranked when it is not privileged and covers every env of the suite.
- "reference": an exact reference (causal reference, training Bayes predictor, null) scored on the same kind of
  instances; a reference row, never ranked. Privileged methods (told the roles) are shown as reference rows too.
- "predictions": a prediction submission (public instances): re-scored, shown as unverified, never ranked.

Every summary is `causalbench.scoring.summarize` (mean, std, n, a 95% interval clipped to the metric's range)
over the units of evaluation: (instance, seed) pairs for methods and references, seeds for predictions.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from ..scoring import summarize
from .format import ENTRY_FORMAT, ENTRY_METRICS, ENTRY_VERSION, OVERALL_METRICS

KINDS = ("method", "reference", "predictions")
Entry = dict[str, Any]   # the JSON object; built only by `entry` below


def finite_or_none(x: Any) -> Any:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def headline(scores: Any) -> dict[str, Any]:
    """The numbers an entry keeps of one run (NaN -> None)."""
    out = {m: finite_or_none(getattr(scores, m)) for m in ENTRY_METRICS}
    out["reliance_defined"] = bool(scores.reliance_defined)
    return out


def summaries(runs: Iterable[Mapping[str, Any]], metrics: Sequence[str] = ENTRY_METRICS) -> dict[str, Any]:
    runs = list(runs)
    return {m: summarize((r[m] for r in runs), m).to_dict() for m in metrics}


def overall(results: Mapping[str, Mapping[str, Any]], covered: Sequence[str]) -> dict[str, Any]:
    """Per unit of evaluation (the same unit key in every covered env): the mean over covered envs; then the
    summary over units. A metric undefined in an env (e.g. regret without a decision) is left out of its mean."""
    units: dict[Any, list[dict[str, Any]]] = {}
    for env in covered:
        for run in results[env]["runs"]:
            units.setdefault(run["unit"], []).append(run)
    out = {}
    for m in OVERALL_METRICS:
        means = []
        for runs in units.values():
            values = [r[m] for r in runs if r[m] is not None]
            means.append(sum(values) / len(values) if values else None)
        out[m] = summarize(means, m).to_dict()
    return out


def entry(kind: str, meta: Mapping[str, Any], suite: Mapping[str, Any], results: Mapping[str, Any],
          envs: Sequence[str], *, not_applicable: Mapping[str, str] | None = None,
          failures: Mapping[str, str] | None = None, **extra: Any) -> Entry:
    """An entry: `results` maps env -> {"env_version", "loss", "runs": [{"unit", ... headline}]}; `envs` is the
    suite's envs; an env covered has results and neither a not-applicable reason nor a failure."""
    assert kind in KINDS, kind
    skipped, failed = dict(not_applicable or {}), dict(failures or {})
    covered = [e for e in envs if e in results and e not in skipped and e not in failed]
    full = {e: {**results[e], "summary": summaries(results[e]["runs"])} for e in covered}
    return {"format": ENTRY_FORMAT, "entry_version": ENTRY_VERSION, "kind": kind, **meta, **extra,
            "suite": dict(suite), "coverage": [len(covered), len(envs)], "envs": covered,
            "not_applicable": skipped, "failures": failed, "results": full, "overall": overall(full, covered)}


def is_reference(e: Mapping[str, Any]) -> bool:
    """A reference row: an exact reference, or a privileged method (told the roles)."""
    return e.get("kind") == "reference" or (e.get("kind") == "method" and bool(e.get("privileged")))


def is_ranked(e: Mapping[str, Any]) -> bool:
    """Ranked in its track: a harness-evaluated, non-privileged method covering every env of the suite."""
    return e.get("kind") == "method" and not is_reference(e) and e["coverage"][0] == e["coverage"][1]
