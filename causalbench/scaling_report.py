"""Scaling-study reports rebuilt from the JSON-lines records (and stored predictions) alone.

- curves: the final-stage records of the sweep, one curve per (method, width,
  interventional fraction), one point per size, values over seeds;
- fits: `scaling_fit.fit_curve` per curve and metric (`fits.json`, `scaling.md`);
- path dependence: `seed_disagreement` (the scorer's function) on the stored
  OOD predictions of the continual runs, across seeds, across domain orders
  and overall, and the spread of the final spurious reliance and OOD score.

Metrics: the scorer's headline numbers (ID risk, OOD score, spurious reliance,
effect error), plus "OOD score on one kind of shift" (`ood:<kind>`: the mean of
the per-test-set terms of the OOD score over the env's shifts of that kind),
because the OOD score averages shifts that can pull in opposite directions
(a confounder shift can reward the spurious proxy that a spurious-break shift
punishes).
"""

from __future__ import annotations

import json
import math
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .runner import read_records
from .scaling_fit import CurveFit, fit_curve
from .scoring.aggregate import Summary, summarize

HEADLINE = (("risk_id", "ID risk"), ("ood_score", "OOD score"), ("spurious_reliance", "spurious reliance"),
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
    """A headline score, or `ood:<kind>`: the mean OOD-score term over the env's shifts of that kind."""
    scores = record["scores"]
    if metric.startswith("ood:"):
        kind = metric[4:]
        terms = [v for t, v in scores["ood"].items()
                 if record["shift_kinds"].get(t) == kind and v is not None and math.isfinite(v)]
        return float(np.mean(terms)) if terms else None
    return scores.get(metric)


def shift_kinds(records: Sequence[dict[str, Any]]) -> list[str]:
    """The shift kinds present, in SHIFT_KINDS order."""
    present = {k for r in records[:1] for k in r["shift_kinds"].values()}
    return [k for k in SHIFT_KINDS if k in present]


def metric_label(metric: str) -> str:
    return dict(HEADLINE).get(metric) or (f"OOD score, {metric[4:]} shifts" if metric.startswith("ood:") else metric)


def _final(records: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r.get("kind") == kind and r["stage"] == r["n_stages"] - 1]


def build_curves(records: Sequence[dict[str, Any]]) -> list[Curve]:
    """Curves in a stable order: by method (first appearance in sorted keys), width, fraction."""
    from .methods import method_spec

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
    methods = list(dict.fromkeys(r["method"] for r in sorted(final, key=lambda r: r["key"])))
    order = {m: i for i, m in enumerate(sorted(methods, key=lambda m: (m != "erm-linear", m != "erm-mlp", m)))}
    return sorted(curves, key=lambda c: (order[c.method], c.width or 0, -1 if c.fraction is None else c.fraction))


def fit_all(curves: Sequence[Curve], metrics: Sequence[str]) -> dict[tuple[str, str], CurveFit]:
    """The fit of every (curve, metric); bootstrap seeds derive from the labels (deterministic)."""
    return {(c.label, m): fit_curve(c.sizes, c.values(m), seed=zlib.crc32(f"{c.label}|{m}".encode()))
            for c in curves for m in metrics}


# ---------------------------------------------------------------- path dependence


def path_dependence(records: Sequence[dict[str, Any]], directory: Path) -> list[dict[str, Any]]:
    """Per continual method: seed disagreement across seeds / orders / all runs, and the reliance spread."""
    from .env import make
    from .scaling import PATH_EVAL_SEED, prediction_path
    from .scoring import seed_disagreement

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
            values = [seed_disagreement(g, env, seed=PATH_EVAL_SEED, n=n_test) for g in groups.values() if len(g) > 1]
            return summarize(values)

        by_order: dict[Any, list] = defaultdict(list)
        by_seed: dict[Any, list] = defaultdict(list)
        for (order, seed), p in preds.items():
            by_order[order].append(p)
            by_seed[seed].append(p)
        overall = (seed_disagreement(list(preds.values()), env, seed=PATH_EVAL_SEED, n=n_test)
                   if len(preds) > 1 else math.nan)
        per_order = {" > ".join(o): {"spurious_reliance": summarize(r["scores"]["spurious_reliance"] for r in rs
                                                                    ).to_dict(),
                                    "ood_score": summarize(r["scores"]["ood_score"] for r in rs).to_dict()}
                     for o, rs in _group_by(recs, lambda r: tuple(r["order"])).items()}
        spur = [r["scores"]["spurious_reliance"] for r in recs]
        out.append({
            "env_id": recs[0]["env_id"], "method": method, "n_train": recs[0]["n_train"], "hparams": recs[0]["hparams"],
            "orders": [" > ".join(o) for o in dict.fromkeys(tuple(r["order"]) for r in recs)],
            "seeds": sorted({r["seed"] for r in recs}), "runs": len(recs), "missing_predictions": missing,
            "eval_seed": PATH_EVAL_SEED, "n_test": n_test,
            "disagreement_across_seeds": disagreement(by_order).to_dict(),
            "disagreement_across_orders": disagreement(by_seed).to_dict(),
            "disagreement_all": None if not math.isfinite(overall) else overall,
            "spurious_reliance": summarize(spur).to_dict(),
            "spurious_reliance_range": [min(spur), max(spur)] if spur else None,
            "ood_score": summarize(r["scores"]["ood_score"] for r in recs).to_dict(),
            "per_order": per_order,
        })
    return out


def _group_by(items: Sequence[dict[str, Any]], key: Any) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return dict(out)


# ---------------------------------------------------------------- text


def _f(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}g}"


def _s(d: dict[str, Any]) -> str:
    """mean ± std (n) of a Summary dict."""
    if not d or not d.get("n"):
        return "n/a"
    return f"{_f(d['mean'])} ± {_f(d['std'], 2)} (n = {d['n']})" if d["n"] > 1 else f"{_f(d['mean'])} (n = 1)"


def fits_table(curves: Sequence[Curve], fits: dict[tuple[str, str], CurveFit], metrics: Sequence[str]) -> list[str]:
    lines = ["| curve | track | metric | N | seeds | mean at largest N [95% CI] | asymptote a [95% CI] | c | "
             "slope per decade at largest N | status |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in curves:
        for m in metrics:
            fit = fits[(c.label, m)]
            at_max = (f"{_f(fit.y_last)} [{_f(fit.y_last_lo)}, {_f(fit.y_last_hi)}]" if fit.y_last_lo is not None
                      else _f(fit.y_last))
            a = (f"{_f(fit.a)} [{_f(fit.a_lo)}, {_f(fit.a_hi)}]" if fit.a is not None else "—")
            status = fit.status + (f": {fit.reason}" if fit.reason else "")
            lines.append(f"| {c.label} | {c.track} | {metric_label(m)} | {fit.n_min}–{fit.n_max} | {fit.n_seeds} | "
                         f"{at_max} | {a} | {_f(fit.c)} | {_f(fit.slope)} | {status} |")
    return lines


def terminal_table(curves: Sequence[Curve], fits: dict[tuple[str, str], CurveFit], metrics: Sequence[str],
                   title: str) -> str:
    width = 24
    short = (lambda m: m[4:] if m.startswith("ood:") else metric_label(m))
    head = f"{'curve':<22} " + " ".join(f"{short(m)[:width]:>{width}}" for m in metrics)
    lines = [title, head, "-" * len(head)]
    for c in curves:
        lines.append(f"{c.label:<22} " + " ".join(f"{fits[(c.label, m)].describe():>{width}}" for m in metrics))
    return "\n".join(lines)


def path_lines(report: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for p in report:
        lines += [f"### {p['method']} on {p['env_id']} (N = {p['n_train']}, {p['runs']} runs)", "",
                  f"Orders: {'; '.join(p['orders'])}. Seeds: {', '.join(map(str, p['seeds']))}. Disagreement = the "
                  f"scorer's `seed_disagreement` (mean squared difference of predictions over the shifted test sets "
                  f"of the seed-{p['eval_seed']} suite, n = {p['n_test']} each, / Var(Y); label-disagreement rate "
                  "for a binary target), mean ± std over groups.", "",
                  f"- across seeds (same order): {_s(p['disagreement_across_seeds'])}",
                  f"- across orders (same seed): {_s(p['disagreement_across_orders'])}",
                  f"- all runs: {_f(p['disagreement_all'])}",
                  f"- final spurious reliance: {_s(p['spurious_reliance'])}, range "
                  f"[{_f((p['spurious_reliance_range'] or [None])[0])}, {_f((p['spurious_reliance_range'] or [None, None])[1])}]",
                  f"- final OOD score: {_s(p['ood_score'])}", "",
                  "| order | spurious reliance | OOD score |", "|---|---|---|"]
        lines += [f"| {o} | {_s(v['spurious_reliance'])} | {_s(v['ood_score'])} |" for o, v in p["per_order"].items()]
        if p["missing_predictions"]:
            lines.append(f"\n{p['missing_predictions']} run(s) have no stored predictions and are left out.")
        lines.append("")
    return lines


def summary_markdown(records: Sequence[dict[str, Any]], curves: Sequence[Curve], fits: dict, metrics: Sequence[str],
                     paths: Sequence[dict[str, Any]], skipped: Sequence[dict[str, Any]]) -> str:
    env_id = records[0]["env_id"]
    sizes = sorted({s for c in curves for s in c.sizes})
    seeds = sorted({s for c in curves for s in c.seeds})
    n_test = records[0]["n_test"]
    kinds = ", ".join(f"{t} ({k})" for t, k in records[0]["shift_kinds"].items())
    lines = [f"# Scaling study: {env_id}", "",
             f"Sizes N = {', '.join(map(str, sizes))}; seeds {', '.join(map(str, seeds))} (training data, "
             f"initialisation and test sets share the seed); {n_test} rows per test set. Test sets: id; {kinds}.",
             "",
             "Each curve is a method at a width (`w`) and, for static observational learners, a fraction `f` of "
             "training units on which every observed variable was randomised (f = 0: observational data). "
             "Fit: y = a + b (N / N_min)^-c by weighted least squares on the seed means; a = asymptote with a 95% "
             "percentile-bootstrap interval over seeds; slope = dy / dlog10 N at the largest N. 'flat': a constant "
             "fits as well (F-test p > 0.05), a = level; 'no plateau': still changing like log N, asymptote not "
             "identified. OOD score: mean over shifted test sets of (R - R(oracle)) / (R(null) - R(oracle)) "
             "(0 = causal oracle, 1 = constant); 'OOD score, <kind> shifts' averages only that kind's test sets.",
             "", "## Fitted asymptotes", ""]
    lines += fits_table(curves, fits, metrics)
    lines += ["", "## Mean over seeds at each size", "",
              "| curve | metric | " + " | ".join(f"N={n}" for n in sizes) + " |", "|---|---|" + "---|" * len(sizes)]
    for c in curves:
        for m, _ in HEADLINE:
            by_n = dict(zip(c.sizes, c.summaries(m)))
            lines.append(f"| {c.label} | {metric_label(m)} | " +
                         " | ".join(str(by_n[n]) if n in by_n else "" for n in sizes) + " |")
    if paths:
        lines += ["", "## Path dependence (continual track)", ""] + path_lines(paths)
    if skipped:
        lines += ["", "## Not applicable", ""] + [f"- {s['method']}: {s['reason']}" for s in skipped]
    return "\n".join(lines) + "\n"


def write_scaling_report(directory: str | Path, plots: bool = True) -> tuple[str, list[Path]]:
    """Rebuild scaling.md, fits.json, path_dependence.json and plots/ from `directory`; returns (summary, paths)."""
    directory = Path(directory)
    records = [r for r in read_records(directory) if r.get("study") == "scaling"]
    if not records:
        return "No scaling records yet.", []
    skipped_path = directory / "skipped.json"
    skipped = json.loads(skipped_path.read_text()) if skipped_path.exists() else []
    curves = build_curves(records)
    kinds = shift_kinds(records)
    metrics = [m for m, _ in HEADLINE] + [f"ood:{k}" for k in kinds]
    fits = fit_all(curves, metrics)
    paths = path_dependence(records, directory)
    written = []
    md = directory / "scaling.md"
    md.write_text(summary_markdown(records, curves, fits, metrics, paths, skipped))
    fits_json = directory / "fits.json"
    fits_json.write_text(json.dumps([{"env_id": records[0]["env_id"], "curve": c.label, "method": c.method,
                                      "width": c.width, "fraction": c.fraction, "track": c.track, "metric": m,
                                      **fits[(c.label, m)].to_dict()} for c in curves for m in metrics], indent=1))
    written += [md, fits_json]
    if paths:
        pj = directory / "path_dependence.json"
        pj.write_text(json.dumps(paths, indent=1))
        written.append(pj)
    if plots and curves:
        from .scaling_plots import plot_scaling

        written += plot_scaling(curves, fits, kinds, paths, records, directory / "plots")
    text = [terminal_table(curves, fits, [m for m, _ in HEADLINE],
                           f"{records[0]['env_id']}: fitted asymptote a [95% CI] of y = a + b N^-c"),
            "", terminal_table(curves, fits, [f"ood:{k}" for k in kinds],
                               "OOD score on each kind of shift (mean of its test sets' terms): asymptote")]
    for p in paths:
        text += ["", f"path dependence, {p['method']} (N = {p['n_train']}, orders {'; '.join(p['orders'])}, "
                 f"{p['runs']} runs): seed disagreement across seeds {_s(p['disagreement_across_seeds'])}, across "
                 f"orders {_s(p['disagreement_across_orders'])}; final spurious reliance {_s(p['spurious_reliance'])}"]
    return "\n".join(text), written
