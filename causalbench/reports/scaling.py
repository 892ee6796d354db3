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
from pathlib import Path
from typing import Any, Sequence

from ..experiments.results import read_records
from .fit import CurveFit
from .scaling_data import (HEADLINE, Curve, build_curves, fit_all, metric_label, path_dependence,
                           shift_kinds)
from .scaling_plots import plot_scaling

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
                  f"- final OOD excess risk on link shifts: {_s(p['ood_link'])}", "",
                  "| order | spurious reliance | OOD score |", "|---|---|---|"]
        lines += [f"| {o} | {_s(v['spurious_reliance'])} | {_s(v['ood_link'])} |" for o, v in p["per_order"].items()]
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
    kinds = ", ".join(sorted(t for t in records[0]["scores"]["excess_risk"] if t != "id"))
    lines = [f"# Scaling study: {env_id}", "",
             f"Sizes N = {', '.join(map(str, sizes))}; seeds {', '.join(map(str, seeds))} (training data, "
             f"initialisation and test sets share the seed); {n_test} rows per test set. Test sets: id; {kinds}.",
             "",
             "Each curve is a method at a width (`w`) and, for static observational learners, a fraction `f` of "
             "training units on which every observed variable was randomised (f = 0: observational data). "
             "Fit: y = a + b (N / N_min)^-c by weighted least squares on the seed means; a = asymptote with a 95% "
             "percentile-bootstrap interval over seeds; slope = dy / dlog10 N at the largest N. 'flat': a constant "
             "fits as well (F-test p > 0.05), a = level; 'no plateau': still changing like log N, asymptote not "
             "identified. OOD excess risk: R(f) - R(Bayes) of each test distribution, in Var(Y) units (real target) "
             "or nats (binary); 'OOD excess risk, <kind> shifts' averages only that kind's test sets.",
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
        written += plot_scaling(curves, fits, kinds, paths, records, directory / "plots")
    text = [terminal_table(curves, fits, [m for m, _ in HEADLINE],
                           f"{records[0]['env_id']}: fitted asymptote a [95% CI] of y = a + b N^-c"),
            "", terminal_table(curves, fits, [f"ood:{k}" for k in kinds],
                               "OOD excess risk on each kind of shift (mean of its test sets' terms): asymptote")]
    for p in paths:
        text += ["", f"path dependence, {p['method']} (N = {p['n_train']}, orders {'; '.join(p['orders'])}, "
                 f"{p['runs']} runs): seed disagreement across seeds {_s(p['disagreement_across_seeds'])}, across "
                 f"orders {_s(p['disagreement_across_orders'])}; final spurious reliance {_s(p['spurious_reliance'])}"]
    return "\n".join(text), written
