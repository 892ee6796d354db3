"""The scaling study's records as curves: static curves over N, compute per point, fine-tuning and path dependence.

Every record is classified by what its job did (never by its position in the file):
- `reference`: an exact reference on one evaluation suite;
- `static`: one training stage; a curve per (env, model, rho, regime), a point per N, values over seeds;
- `finetune`: pretrained on static rows, then fine-tuned stage by stage on a growing interventional budget;
- `scratch`: one stage of interventional rows only (the from-scratch comparison);
- `order`: a fine-tuning run with another data order (shuffle_seed); `reversed`: its stages in the other order.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..experiments.references import REFERENCES
from ..scoring.aggregate import Summary, summarize
from .fit import CurveFit, fit_curve

METRICS = (("excess_risk_id", "ID excess risk"), ("ood_link", "OOD excess risk, link shifts"),
           ("effect_error", "effect error"), ("spurious_reliance", "spurious reliance"))
REFERENCE_LINES = ("bayes-train", "causal-reference")


def metric_label(metric: str) -> str:
    return dict(METRICS).get(metric, metric)


def regime_name(r: dict[str, Any]) -> str:
    if not r.get("regime_observed"):
        return "unobserved"
    return "observed" if r.get("regime_query", 0) == 1 else "observed@0"


def model_label(r: dict[str, Any]) -> str:
    hp = r.get("hparams") or {}
    return f"{hp.get('width')}x{hp.get('depth')}"


def family(r: dict[str, Any]) -> str:
    """What the record's job did (see the module docstring)."""
    if r["method"] in REFERENCES:
        return "reference"
    stages = r.get("data_stages") or []
    if len(stages) <= 1:
        return "scratch" if stages else "static"
    if stages[0]["kind"] == "interventional" and stages[0]["fraction"] == 1.0:
        return "reversed"
    return "order" if (r.get("hparams") or {}).get("shuffle_seed", -1) != -1 else "finetune"


def final(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["stage"] == r["n_stages"] - 1]


@dataclass(frozen=True)
class Curve:
    """One static curve: a model at a mixture share rho and regime, over sizes N and seeds."""

    env_id: str
    model: str
    rho: float
    regime: str
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    records: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        return f"{self.model} rho={self.rho:g} {self.regime}"

    @property
    def params(self) -> int | None:
        values = [r["compute"]["params"] for r in self.records if r.get("compute")]
        return int(values[0]) if values else None

    def values(self, metric: str) -> np.ndarray:
        """(seeds x sizes) values; NaN where missing or undefined."""
        out = np.full((len(self.seeds), len(self.sizes)), np.nan)
        for r in self.records:
            v = value(r, metric)
            if v is not None and math.isfinite(v):
                out[self.seeds.index(r["seed"]), self.sizes.index(r["n_train"])] = v
        return out

    def summaries(self, metric: str) -> list[Summary]:
        vals = self.values(metric)
        return [summarize(vals[:, j].tolist(), metric=metric) for j in range(len(self.sizes))]


def value(r: dict[str, Any], metric: str) -> float | None:
    """A score of the record, or a compute quantity ("train_flops", "updates")."""
    if metric in ("train_flops", "updates", "samples_seen"):
        return (r.get("compute") or {}).get(metric)
    return r["scores"].get(metric)


def build_curves(records: Sequence[dict[str, Any]]) -> list[Curve]:
    """Static curves in a stable order: env, model (by parameters), rho, regime."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in final(records):
        if family(r) == "static":
            groups[(r["env_id"], model_label(r), float(r["fraction"] or 0.0), regime_name(r))].append(r)
    curves = [Curve(e, m, rho, reg, tuple(sorted({r["n_train"] for r in rs})), tuple(sorted({r["seed"] for r in rs})),
                    tuple(sorted(rs, key=lambda r: (r["seed"], r["n_train"])))) for (e, m, rho, reg), rs in groups.items()]
    order = {"unobserved": 0, "observed": 1, "observed@0": 2}
    return sorted(curves, key=lambda c: (c.env_id, c.params or 0, c.model, c.rho, order.get(c.regime, 9)))


def fit_all(curves: Sequence[Curve], metrics: Sequence[str]) -> dict[tuple[str, str, str], CurveFit]:
    """The fit of every (env, curve, metric); bootstrap seeds derive from the labels (deterministic)."""
    return {(c.env_id, c.label, m): fit_curve(c.sizes, c.values(m), seed=zlib.crc32(f"{c.env_id}|{c.label}|{m}".encode()))
            for c in curves for m in metrics}


def references(records: Sequence[dict[str, Any]], env_id: str, eval_seeds: Sequence[int] | None = None
               ) -> dict[str, dict[str, Summary]]:
    """Reference name -> metric -> summary over the given evaluation seeds (all when None)."""
    out: dict[str, dict[str, Summary]] = {}
    for name in REFERENCE_LINES + ("null",):
        recs = [r for r in records if r["env_id"] == env_id and r["method"] == name
                and (eval_seeds is None or r["eval_seed"] in eval_seeds)]
        if recs:
            out[name] = {m: summarize((r["scores"].get(m) for r in recs), metric=m) for m, _ in METRICS}
    return out


# ---------------------------------------------------------------- fine-tuning


def _by_seed(records: Sequence[dict[str, Any]], fam: str, env_id: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["env_id"] == env_id and family(r) == fam:
            out[r["seed"]].append(r)
    return {s: sorted(rs, key=lambda r: r["stage"]) for s, rs in sorted(out.items())}


def finetune_table(records: Sequence[dict[str, Any]], env_id: str) -> dict[str, Any] | None:
    """Per budget B (B = 0: the pretrained model): pretrained+fine-tuned vs scratch, per metric over seeds,
    their paired difference (same seed, same rows, same evaluation suite) and the share of the pretrained
    model's gap to the causal reference that fine-tuning closed."""
    pre = _by_seed(records, "finetune", env_id)
    if not pre:
        return None
    first = next(iter(pre.values()))
    stages = first[0]["data_stages"]
    budgets = [0] + [s["n"] for s in stages[1:]]
    scratch = {(r["seed"], r["n_train"]): r for r in final(records) if r["env_id"] == env_id and family(r) == "scratch"}
    refs = references(records, env_id, [first[0]["eval_seed"]])
    causal = refs.get("causal-reference", {})
    rows = []
    for k, b in enumerate(budgets):
        row: dict[str, Any] = {"budget": b}
        for m, _ in METRICS:
            tuned = {s: value(rs[k], m) for s, rs in pre.items() if len(rs) > k and value(rs[k], m) is not None}
            fresh = {s: value(scratch[(s, b)], m) for s in pre if (s, b) in scratch and value(scratch[(s, b)], m) is not None}
            both = sorted(set(tuned) & set(fresh))
            start = [value(rs[0], m) for rs in pre.values()]
            target = causal[m].mean if m in causal else math.nan
            gap = float(np.mean(start)) - target
            row[m] = {"pretrained": summarize(tuned.values(), metric=m).to_dict(),
                      "scratch": summarize(fresh.values(), metric=m).to_dict() if fresh else None,
                      "pretrained_minus_scratch": summarize(tuned[s] - fresh[s] for s in both).to_dict() if both else None,
                      "gap_closed": (float((np.mean(start) - np.mean(list(tuned.values()))) / gap)
                                     if math.isfinite(gap) and abs(gap) > 1e-12 and tuned else None)}
        rows.append(row)
    return {"env_id": env_id, "pretrain_rows": stages[0]["n"], "model": model_label(first[0]),
            "seeds": sorted(pre), "eval_seed": first[0]["eval_seed"], "budgets": budgets,
            "causal_reference": {m: s.to_dict() for m, s in causal.items()}, "rows": rows}


def path_dependence(records: Sequence[dict[str, Any]], env_id: str, load: Any) -> dict[str, Any] | None:
    """Seed disagreement (the scorer's) of the final fine-tuned models: across seeds (default data order),
    across data orders (same seed), and between the two stage orders (same seed); `load(record)` returns a
    record's stored shifted-test-set predictions or None."""
    from ..scoring import seed_disagreement

    last = [r for r in final(records) if r["env_id"] == env_id]
    default = {r["seed"]: r for r in last if family(r) == "finetune"}
    if len(default) < 2:
        return None
    eval_index = next(iter(default.values()))["eval_seed"]
    n_test = next(iter(default.values()))["n_test"]

    def preds(rs: Sequence[dict[str, Any]]) -> list[dict[str, np.ndarray]]:
        return [p for p in (load(r) for r in rs) if p is not None]

    def disagreement(rs: Sequence[dict[str, Any]]) -> float | None:
        ps = preds(rs)
        return seed_disagreement(ps, env_id, eval_index, n=n_test) if len(ps) >= 2 else None

    across_orders, across_stage_order = [], []
    for s, r in sorted(default.items()):
        group = [r] + [x for x in last if family(x) == "order" and x["seed"] == s]
        if len(group) > 1:
            across_orders.append(disagreement(group))
        flipped = [x for x in last if family(x) == "reversed" and x["seed"] == s]
        if flipped:
            across_stage_order.append(disagreement([r, flipped[0]]))
    reversed_recs = [x for x in last if family(x) == "reversed"]
    return {"env_id": env_id, "eval_seed": eval_index, "n_test": n_test, "seeds": sorted(default),
            "across_seeds": disagreement(list(default.values())),
            "across_data_orders": summarize((v for v in across_orders if v is not None), low=0.0).to_dict(),
            "across_stage_orders": summarize((v for v in across_stage_order if v is not None), low=0.0).to_dict(),
            "final": {m: summarize((value(r, m) for r in default.values()), metric=m).to_dict() for m, _ in METRICS},
            "final_reversed": {m: summarize((value(r, m) for r in reversed_recs), metric=m).to_dict()
                               for m, _ in METRICS} if reversed_recs else None,
            "final_all_orders": {m: summarize((value(r, m) for r in last if family(r) in ("finetune", "order")),
                                              metric=m).to_dict() for m, _ in METRICS}}
