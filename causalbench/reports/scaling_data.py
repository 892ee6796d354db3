"""The scaling study's data: curves from records, fits per curve and metric, and path dependence."""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..env.registry import make
from ..experiments.config import EVAL_SEED_OFFSET
from ..experiments.scaling import PATH_EVAL_INDEX, prediction_path
from ..methods import method_spec
from ..scoring import seed_disagreement
from ..scoring.aggregate import Summary, summarize
from .fit import CurveFit, fit_curve

HEADLINE = (("excess_risk_id", "ID excess risk"), ("ood_link", "OOD excess risk, link shifts"),
            ("spurious_reliance", "spurious reliance"),
            ("effect_error", "effect error"))
SHIFT_KINDS = ("spurious_break", "spurious_reversal", "confounder", "causal_covariate", "noise", "mechanism")


@dataclass(frozen=True)
class Curve:
    """One line of the study: a method at a width and interventional fraction, over sizes and seeds."""

    method: str
    width: int | None
    fraction: float | None
    track: str
    privileged: bool
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    records: tuple[dict[str, Any], ...]

    @property
    def label(self) -> str:
        parts = [self.method]
        if self.width is not None:
            parts.append(f"w{self.width}")
        if self.fraction is not None:
            parts.append(f"f={self.fraction:g}")
        return " ".join(parts)

    def values(self, metric: str) -> np.ndarray:
        """(seeds x sizes) values of a metric; NaN where missing or undefined."""
        out = np.full((len(self.seeds), len(self.sizes)), np.nan)
        for r in self.records:
            v = metric_value(r, metric)
            if v is not None and math.isfinite(v):
                out[self.seeds.index(r["seed"]), self.sizes.index(r["n_train"])] = v
        return out

    def summaries(self, metric: str) -> list[Summary]:
        vals = self.values(metric)
        return [summarize(vals[:, j].tolist()) for j in range(len(self.sizes))]


def metric_value(record: dict[str, Any], metric: str) -> float | None:
    """A headline score, or `ood:<kind>`: the mean excess risk over the env's shifts of that kind."""
    scores = record["scores"]
    if metric.startswith("ood:"):
        return scores["ood_by_kind"].get(metric[4:])
    return scores.get(metric)


def shift_kinds(records: Sequence[dict[str, Any]]) -> list[str]:
    """The shift kinds present, in SHIFT_KINDS order."""
    present = {k for r in records[:1] for k in r["scores"]["ood_by_kind"]}
    return [k for k in SHIFT_KINDS if k in present]


def metric_label(metric: str) -> str:
    return dict(HEADLINE).get(metric) or (f"OOD excess risk, {metric[4:]} shifts" if metric.startswith("ood:")
                                          else metric)


def _final(records: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    study = {"curve": "scaling", "path": "scaling-path"}[kind]
    return [{**r, "width": r["hparams"].get("width")} for r in records
            if r.get("study") == study and r["stage"] == r["n_stages"] - 1]


def build_curves(records: Sequence[dict[str, Any]]) -> list[Curve]:
    """Curves in a stable order: by method (first appearance in sorted keys), width, fraction."""
    final = _final(records, "curve")
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in final:
        groups[(r["method"], r["width"], r["fraction"])].append(r)
    curves = []
    for (method, width, fraction), recs in groups.items():
        try:
            privileged = bool(method_spec(method).cls.privileged)
        except Exception:  # a method no longer registered: still report its records
            privileged = False
        curves.append(Curve(method, width, fraction, recs[0]["track"], privileged,
                            tuple(sorted({r["n_train"] for r in recs})), tuple(sorted({r["seed"] for r in recs})),
                            tuple(recs)))
    privileged = {c.method for c in curves if c.privileged}   # methods by name, privileged references last
    order = {m: i for i, m in enumerate(sorted({c.method for c in curves}, key=lambda m: (m in privileged, m)))}
    return sorted(curves, key=lambda c: (order[c.method], c.width or 0, -1 if c.fraction is None else c.fraction))


def fit_all(curves: Sequence[Curve], metrics: Sequence[str]) -> dict[tuple[str, str], CurveFit]:
    """The fit of every (curve, metric); bootstrap seeds derive from the labels (deterministic)."""
    return {(c.label, m): fit_curve(c.sizes, c.values(m), seed=zlib.crc32(f"{c.label}|{m}".encode()))
            for c in curves for m in metrics}


# ---------------------------------------------------------------- path dependence


def path_dependence(records: Sequence[dict[str, Any]], directory: Path) -> list[dict[str, Any]]:
    """Per continual method: seed disagreement across seeds / orders / all runs, and the reliance spread."""
    final = _final(records, "path")
    out = []
    for method in sorted({r["method"] for r in final}):
        recs = sorted((r for r in final if r["method"] == method), key=lambda r: (r["order"], r["seed"]))
        env = make(recs[0]["env_id"])
        n_test = recs[0]["n_test"]
        preds, missing = {}, 0
        for r in recs:
            path = prediction_path(directory, r["key"])
            if path.exists():
                with np.load(path) as z:
                    preds[(tuple(r["order"]), r["seed"])] = {k: z[k] for k in z.files}
            else:
                missing += 1

        def disagreement(groups: dict[Any, list[dict[str, np.ndarray]]]) -> Summary:
            values = [seed_disagreement(g, env, seed=EVAL_SEED_OFFSET + PATH_EVAL_INDEX, n=n_test) for g in groups.values() if len(g) > 1]
            return summarize(values)

        by_order: dict[Any, list] = defaultdict(list)
        by_seed: dict[Any, list] = defaultdict(list)
        for (order, seed), p in preds.items():
            by_order[order].append(p)
            by_seed[seed].append(p)
        overall = (seed_disagreement(list(preds.values()), env, seed=EVAL_SEED_OFFSET + PATH_EVAL_INDEX, n=n_test)
                   if len(preds) > 1 else math.nan)
        per_order = {" > ".join(o): {"spurious_reliance": summarize(r["scores"]["spurious_reliance"] for r in rs
                                                                    ).to_dict(),
                                    "ood_link": summarize(r["scores"]["ood_link"] for r in rs).to_dict()}
                     for o, rs in _group_by(recs, lambda r: tuple(r["order"])).items()}
        spur = [r["scores"]["spurious_reliance"] for r in recs]
        out.append({
            "env_id": recs[0]["env_id"], "method": method, "n_train": recs[0]["n_train"], "hparams": recs[0]["hparams"],
            "orders": [" > ".join(o) for o in dict.fromkeys(tuple(r["order"]) for r in recs)],
            "seeds": sorted({r["seed"] for r in recs}), "runs": len(recs), "missing_predictions": missing,
            "eval_seed": EVAL_SEED_OFFSET + PATH_EVAL_INDEX, "n_test": n_test,
            "disagreement_across_seeds": disagreement(by_order).to_dict(),
            "disagreement_across_orders": disagreement(by_seed).to_dict(),
            "disagreement_all": None if not math.isfinite(overall) else overall,
            "spurious_reliance": summarize(spur).to_dict(),
            "spurious_reliance_range": [min(spur), max(spur)] if spur else None,
            "ood_link": summarize(r["scores"]["ood_link"] for r in recs).to_dict(),
            "per_order": per_order,
        })
    return out


def _group_by(items: Sequence[dict[str, Any]], key: Any) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return dict(out)


# ---------------------------------------------------------------- text
