"""Scaling-study reports, rebuilt from the JSON-lines records (and stored predictions) alone.

Per env: the fit y = a + b (N / N_min)^-c of every static curve and metric (`fits.json`), the
means over seeds at every size with training compute, the fine-tuning table (pretrained vs
scratch at every budget, `finetune.json`), path dependence (`path_dependence.json`), and the
plots; `scaling.md` holds all the tables. Identical records give byte-identical text files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..experiments.results import read_records
from ..experiments.scaling import prediction_path
from .fit import CurveFit
from .scaling_data import (METRICS, Curve, build_curves, finetune_table, fit_all, metric_label, path_dependence,
                           references)

FIT_NOTE = ("Fit: y = a + b (N / N_min)^-c, weighted least squares on the seed means; a = asymptote with a 95% "
            "interval a ± t(S-1) sqrt(S/(S-1)) x the bootstrap sd over seeds (every bootstrap refits c, so the "
            "interval carries the exponent's uncertainty; seeded by the curve's name). 'flat': a constant fits as well "
            "(F-test p > 0.05), a = the level. 'no plateau within N_max': the curve has not flattened by the largest "
            "N (c at its lower bound, or the asymptote's interval misses the interval of the mean at N_max): no "
            "asymptote is reported, never an extrapolation.")


def _f(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None or not isinstance(v, (int, float)) or not math.isfinite(v) else f"{v:.{digits}g}"


def _ci(d: dict[str, Any] | None) -> str:
    """mean [95% interval] (n) of a Summary dict."""
    if not d or not d.get("n"):
        return "n/a"
    if d["n"] == 1:
        return f"{_f(d['mean'])} (n = 1)"
    return f"{_f(d['mean'])} [{_f(d['ci_low'])}, {_f(d['ci_high'])}]"


def _fit_cell(fit: CurveFit) -> str:
    if fit.status == "ok":
        return f"{_f(fit.a)} [{_f(fit.a_lo)}, {_f(fit.a_hi)}]"
    if fit.status == "flat":
        return f"flat at {_f(fit.a)} [{_f(fit.a_lo)}, {_f(fit.a_hi)}]"
    if fit.status == "no plateau":
        return f"no plateau within N_max = {fit.n_max} (slope {_f(fit.slope)}/decade)"
    return f"no fit ({fit.reason})"


def fits_table(curves: Sequence[Curve], fits: dict, env_id: str) -> list[str]:
    lines = ["| curve | params | metric | N | seeds | mean at N_max [95% CI] | asymptote a [95% CI] | c |",
             "|---|---|---|---|---|---|---|---|"]
    for c in curves:
        if c.env_id != env_id:
            continue
        for m, label in METRICS:
            fit = fits[(env_id, c.label, m)]
            lines.append(f"| {c.label} | {_f(c.params)} | {label} | {fit.n_min}–{fit.n_max} | {fit.n_seeds} | "
                         f"{_f(fit.y_last)} [{_f(fit.y_last_lo)}, {_f(fit.y_last_hi)}] | {_fit_cell(fit)} | "
                         f"{_f(fit.c)} |")
    return lines


def means_table(curves: Sequence[Curve], env_id: str) -> list[str]:
    sizes = sorted({n for c in curves if c.env_id == env_id for n in c.sizes})
    lines = ["| curve | quantity | " + " | ".join(f"N={n}" for n in sizes) + " |", "|---|---|" + "---|" * len(sizes)]
    for c in curves:
        if c.env_id != env_id:
            continue
        for m, label in METRICS + (("train_flops", "training FLOPs"), ("updates", "parameter updates")):
            stats = dict(zip(c.sizes, c.summaries(m)))
            lines.append(f"| {c.label} | {label} | " + " | ".join(
                (_ci(stats[n].to_dict()) if m in dict(METRICS) else _f(stats[n].mean)) if n in stats else ""
                for n in sizes) + " |")
    return lines


def finetune_lines(table: dict[str, Any]) -> list[str]:
    lines = [f"Model {table['model']} pretrained on {table['pretrain_rows']} static rows (rho = 0), then fine-tuned on "
             f"a growing budget B of fully randomised rows (stage k trains on all B_k rows, continuing from stage k-1); "
             f"'scratch' = the same model trained on the same B rows only. Seeds {', '.join(map(str, table['seeds']))}; "
             f"all scored on the evaluation suite of seed {table['eval_seed']}. 'gap closed' = (pretrained before "
             "fine-tuning - fine-tuned) / (pretrained before fine-tuning - causal reference).", "",
             "| B | metric | pretrained + fine-tuned | scratch | pretrained - scratch (paired) | gap closed |",
             "|---|---|---|---|---|---|"]
    for row in table["rows"]:
        for m, label in METRICS:
            cell = row[m]
            lines.append(f"| {row['budget']} | {label} | {_ci(cell['pretrained'])} | {_ci(cell['scratch'])} | "
                         f"{_ci(cell['pretrained_minus_scratch'])} | {_f(cell['gap_closed'], 2)} |")
    ref = table["causal_reference"]
    lines += ["", "Causal reference on that suite: " + "; ".join(f"{metric_label(m)} {_ci(ref.get(m))}"
                                                                 for m, _ in METRICS)]
    return lines


def path_lines(p: dict[str, Any]) -> list[str]:
    rev = p.get("final_reversed")
    lines = [f"Final fine-tuned models, predictions on the shifted test sets of the seed-{p['eval_seed']} suite "
             f"(n = {p['n_test']} each). Disagreement = the scorer's `seed_disagreement` (mean squared difference "
             "/ Var(Y)).", "",
             f"- across seeds {', '.join(map(str, p['seeds']))} (default data order): {_f(p['across_seeds'])}",
             f"- across data orders (minibatch shuffles, same seed and rows): {_ci(p['across_data_orders'])}",
             f"- static then interventional vs interventional then static (same seed and rows): "
             f"{_ci(p['across_stage_orders'])}"]
    for m, label in METRICS:
        lines.append(f"- {label}: default order {_ci(p['final'][m])}; all data orders {_ci(p['final_all_orders'][m])}"
                     + (f"; stages reversed {_ci(rev[m])}" if rev else ""))
    return lines


def env_markdown(records: Sequence[dict[str, Any]], curves: Sequence[Curve], fits: dict, env_id: str,
                 finetune: dict[str, Any] | None, paths: dict[str, Any] | None) -> list[str]:
    refs = references(records, env_id)
    lines = [f"## {env_id}", "", "References (mean over evaluation suites): " + "; ".join(
        f"{name}: " + ", ".join(f"{metric_label(m)} {_f(s[m].mean)}" for m, _ in METRICS) for name, s in refs.items()),
        "", "### Fits over N", "", *fits_table(curves, fits, env_id), "", "### Means over seeds [95% CI] and compute",
        "", *means_table(curves, env_id)]
    if finetune:
        lines += ["", "### Fine-tuning on interventional data", "", *finetune_lines(finetune)]
    if paths:
        lines += ["", "### Path dependence", "", *path_lines(paths)]
    return lines + [""]


def _loader(directory: Path) -> Any:
    def load(record: dict[str, Any]) -> dict[str, np.ndarray] | None:
        path = prediction_path(directory, record["key"])
        if not path.exists():
            return None
        with np.load(path) as z:
            return {k: z[k].astype(float) for k in z.files}
    return load


def write_scaling_report(directory: str | Path, plots: bool = True) -> tuple[str, list[Path]]:
    """Rebuild scaling.md, fits.json, finetune.json, path_dependence.json and plots/ from `directory`."""
    from .scaling_plots import plot_finetune, plot_mixture, plot_scale

    directory = Path(directory)
    records = [r for r in read_records(directory) if r.get("study") == "scaling"]
    if not records:
        return "No scaling records yet.", []
    curves = build_curves(records)
    metrics = [m for m, _ in METRICS]
    fits = fit_all(curves, metrics)
    envs = sorted({r["env_id"] for r in records})
    finetunes = {e: finetune_table(records, e) for e in envs}
    paths = {e: path_dependence(records, e, _loader(directory)) for e in envs}
    md = ["# Scaling study", "", FIT_NOTE, ""]
    for e in envs:
        md += env_markdown(records, curves, fits, e, finetunes[e], paths[e])
    written = [directory / "scaling.md", directory / "fits.json", directory / "finetune.json",
               directory / "path_dependence.json"]
    written[0].write_text("\n".join(md))
    written[1].write_text(json.dumps([{"env_id": c.env_id, "curve": c.label, "model": c.model, "params": c.params,
                                       "rho": c.rho, "regime": c.regime, "metric": m, **fits[(c.env_id, c.label, m)].to_dict()}
                                      for c in curves for m in metrics], indent=1) + "\n")
    written[2].write_text(json.dumps([t for t in finetunes.values() if t], indent=1) + "\n")
    written[3].write_text(json.dumps([p for p in paths.values() if p], indent=1) + "\n")
    if plots:
        (directory / "plots").mkdir(exist_ok=True)
        for e in envs:
            models = [c.model for c in curves if c.env_id == e and c.rho > 0]
            written.append(plot_scale(curves, records, e, directory / "plots" / f"{e}-scale.png"))
            if models:
                written.append(plot_mixture(curves, records, e, models[0], directory / "plots" / f"{e}-mixture.png"))
            if finetunes[e]:
                written.append(plot_finetune(finetunes[e], directory / "plots" / f"{e}-finetune.png"))
    return terminal_summary(curves, fits, envs, finetunes), written


def terminal_summary(curves: Sequence[Curve], fits: dict, envs: Sequence[str],
                     finetunes: dict[str, dict[str, Any] | None]) -> str:
    width = 30
    out = []
    for e in envs:
        head = f"{'curve':<26} " + " ".join(f"{label[:width]:>{width}}" for _, label in METRICS)
        out += [f"{e}: fitted asymptote a [95% CI] of y = a + b N^-c", head, "-" * len(head)]
        for c in curves:
            if c.env_id == e:
                out.append(f"{c.label:<26} " + " ".join(f"{_fit_cell(fits[(e, c.label, m)])[:width]:>{width}}"
                                                        for m, _ in METRICS))
        t = finetunes.get(e)
        if t:
            last = t["rows"][-1]
            out.append(f"fine-tuning (B = {last['budget']}): " + "; ".join(
                f"{metric_label(m)} pretrained {_ci(last[m]['pretrained'])} vs scratch {_ci(last[m]['scratch'])}"
                for m, _ in METRICS))
        out.append("")
    return "\n".join(out)
