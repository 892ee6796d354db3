"""Run reports rebuilt from JSON-lines records alone: a markdown summary, a terminal table and PNG plots.

Every number says its env (with version), track, protocol and number of seeds; metric names,
units and directions come from the one metric table (`causalbench.scoring.metrics`). Reference
rows (the exact causal reference, training Bayes predictor and null) are marked and never ranked.
Identical records give byte-identical reports: every table is sorted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..experiments.results import read_records, write_atomic
from ..experiments.sweep import SKIPPED_FILE
from ..scoring.aggregate import summarize
from ..scoring.metrics import METRICS
from .plots import plot_all
from .records import final_stage, fmt, group, method_order, metric

TABLE = ("excess_risk_id", "ood_link", "ood_worst", "spurious_reliance", "spurious_reliance_abs", "effect_error",
         "regret", "regret_worst")
TERMINAL = ("ood_link", "ood_worst", "spurious_reliance", "effect_error", "regret")


def _units() -> list[str]:
    return [f"- **{METRICS[m].label}** (`{m}`, {METRICS[m].unit}; "
            f"{'lower' if METRICS[m].lower_is_better else 'higher'} is better): {METRICS[m].description}."
            for m in TABLE]


def summary_markdown(records: list[dict[str, Any]], skipped: Sequence[dict[str, Any]] = ()) -> str:
    """The markdown summary: one table per env, per-test-set excess risks, continual stages, skipped pairs."""
    if not records:
        return "# causalbench results\n\nNo records yet.\n"
    final = final_stage(records)
    seeds = sorted({r["seed"] for r in final})
    eval_seeds = sorted({r["eval_seed"] for r in final})
    lines = ["# causalbench results", "",
             f"Training seeds {', '.join(map(str, seeds))}; evaluation seeds {', '.join(map(str, eval_seeds))} "
             "(a disjoint namespace). Entries are mean ± std over seeds, n = number of seeds; references "
             "(track `reference`) are exact predictors computed from the SCM, shown for scale and never ranked.",
             "", "Metrics:", "", *_units(), ""]
    for name in MATRIX:
        lines += [f"## {METRICS[name].label} ({METRICS[name].unit}), every env", "", matrix_table(records, name), ""]
    for (env_id,), env_recs in group(final, "env_id").items():
        by_method = group(env_recs, "method")
        shifted = sorted(k for k in env_recs[0]["scores"]["excess_risk"] if k != "id")
        lines += [f"## {env_id}", "",
                  f"Test sets (n = {env_recs[0]['n_test']} each): id; {', '.join(shifted)}.", "",
                  "| method | track | protocol | n | " + " | ".join(METRICS[m].label for m in TABLE) + " |",
                  "|---|---|---|---|" + "---|" * len(TABLE)]
        for method in method_order(env_recs):
            recs = by_method[(method,)]
            cells = [fmt(metric(recs, m)) for m in TABLE]
            lines.append(f"| {method} | {recs[0]['track']} | {recs[0]['protocol']} | {len(recs)} | "
                         + " | ".join(cells) + " |")
        lines += ["", "<details><summary>excess risk on each test set</summary>", "",
                  "| method | " + " | ".join(["id", *shifted]) + " |", "|---|" + "---|" * (len(shifted) + 1)]
        for method in method_order(env_recs):
            recs = by_method[(method,)]
            row = [fmt(summarize((r["scores"]["excess_risk"].get(s) for r in recs), "ood_worst"))
                   for s in ["id", *shifted]]
            lines.append(f"| {method} | " + " | ".join(row) + " |")
        lines += ["", "</details>", ""]
    staged = [r for r in records if r["protocol"] == "continual"]
    if staged:
        lines += ["## Continual training, stage by stage", "",
                  "| env | method | stage | domain | n | OOD: link shifts | spurious reliance | effect error |",
                  "|---|---|---|---|---|---|---|---|"]
        for (env_id, method, stage), recs in group(staged, "env_id", "method", "stage").items():
            lines.append(f"| {env_id} | {method} | {stage + 1} | {recs[0]['stage_domain']} | {len(recs)} | "
                         f"{fmt(metric(recs, 'ood_link'))} | {fmt(metric(recs, 'spurious_reliance'))} | "
                         f"{fmt(metric(recs, 'effect_error'))} |")
        lines.append("")
    if skipped:
        lines += ["## Not applicable", ""]
        lines += [f"- {s['method']} on {s['env_id']}: {s['reason']}"
                  for s in sorted(skipped, key=lambda s: (s["env_id"], s["method"]))]
        lines.append("")
    return "\n".join(lines)


MATRIX = ("effect_error", "ood_link", "spurious_reliance", "regret")   # method x env overview tables


def _short(env_id: str) -> str:
    return env_id.rsplit("-", 1)[0]


def matrix_table(records: list[dict[str, Any]], name: str, digits: int = 2) -> str:
    """One metric as a markdown table, methods down (in report order) and envs across: mean over seeds,
    "–" where the method does not apply or the metric is undefined."""
    final = final_stage(records)
    envs = sorted({r["env_id"] for r in final})
    by = group(final, "method", "env_id")
    lines = ["| method | track | " + " | ".join(_short(e) for e in envs) + " |",
             "|---|---|" + "---:|" * len(envs)]
    for method in method_order(final):
        cells = []
        for env_id in envs:
            s = metric(by[(method, env_id)], name) if (method, env_id) in by else None
            cells.append(f"{s.mean:.{digits}f}" if s is not None and s.n else "–")
        track = next(r["track"] for r in final if r["method"] == method)
        lines.append(f"| {method} | {track} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compact_table(records: list[dict[str, Any]]) -> str:
    """A terminal table of the headline metrics (final stage, mean ± std over seeds)."""
    final = final_stage(records)
    head = f"{'env':<22} {'method':<20} {'track':<22} " + " ".join(f"{c:>17}" for c in TERMINAL)
    lines = [head, "-" * len(head)]
    for (env_id,), env_recs in group(final, "env_id").items():
        by_method = group(env_recs, "method")
        for method in method_order(env_recs):
            recs = by_method[(method,)]
            lines.append(f"{env_id:<22} {method:<20} {recs[0]['track']:<22} "
                         + " ".join(f"{fmt(metric(recs, c)):>17}" for c in TERMINAL))
    return "\n".join(lines)


def write_report(directory: str | Path, plots: bool = True) -> list[Path]:
    """Rebuild summary.md and plots/*.png in `directory` from its results.jsonl alone."""
    directory = Path(directory)
    records = read_records(directory)
    skipped_path = directory / SKIPPED_FILE
    skipped = json.loads(skipped_path.read_text()) if skipped_path.exists() else []
    summary = directory / "summary.md"
    write_atomic(summary, summary_markdown(records, skipped))
    written = [summary]
    if records and plots:
        written += plot_all(records, directory / "plots", skipped)
    return written
