"""Reports rebuilt from JSON-lines records alone: a markdown summary and PNG plots.

Every number says its env (with version), track, protocol and seeds; OOD scores
say which test sets they average. Aggregation over seeds is `summarize`
(mean, std, n, 95% interval), the same helper every report uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..experiments.results import read_records
from ..scoring.aggregate import summarize
from .plots import plot_all
from .records import final_stage, fmt, group, metric

METRICS = (("risk_id", "ID risk"), ("ood_score", "OOD score"), ("ood_link", "OOD: link shifts"),
           ("risk_worst", "worst-shift risk"),
           ("spurious_reliance", "spurious reliance"), ("causal_reliance", "causal reliance"),
           ("effect_error", "effect error"), ("regret", "regret"))
def summary_markdown(records: list[dict[str, Any]], skipped: Sequence[dict[str, Any]] = ()) -> str:
    """The markdown summary: one table per env, a per-shift breakdown, continual stages, skipped pairs."""
    if not records:
        return "# causalbench results\n\nNo records yet.\n"
    final = final_stage(records)
    seeds = sorted({r["seed"] for r in final})
    lines = ["# causalbench results", "",
             f"Seeds: {', '.join(map(str, seeds))} (training data, method and test sets share the seed). "
             "Entries are mean ± std over seeds; n = number of seeds. Metrics: ID risk and worst-shift risk are "
             "MSE (real target) or cross-entropy (binary); OOD score = mean over the listed shifted test sets of "
             "(R(f) - R(oracle)) / (R(null) - R(oracle)) (0 = causal oracle, 1 = constant); 'OOD: link shifts' "
             "averages it over the shifts that break or reverse the spurious link only; reliance shares; "
             "effect error in sd(Y); regret in reward units (decision envs).", ""]
    for (env_id,), env_recs in group(final, "env_id").items():
        shifts = sorted(next(iter(env_recs))["scores"]["ood"])
        n_test = env_recs[0]["n_test"]
        lines += [f"## {env_id}", "",
                  f"Test sets (n = {n_test} each): id; shifts {', '.join(shifts)}.", "",
                  "| method | track | protocol | n | " + " | ".join(label for _, label in METRICS) + " |",
                  "|---|---|---|---|" + "---|" * len(METRICS)]
        by_method = group(env_recs, "method", "track", "protocol")
        for (method, track, protocol), recs in by_method.items():
            cells = [fmt(metric(recs, m)) for m, _ in METRICS]
            lines.append(f"| {method} | {track} | {protocol} | {len(recs)} | " + " | ".join(cells) + " |")
        lines += ["", "<details><summary>risk on each test set</summary>", "",
                  "| method | " + " | ".join(["id", *shifts]) + " |", "|---|" + "---|" * (len(shifts) + 1)]
        for (method, _, _), recs in by_method.items():
            row = [fmt(summarize(r["scores"]["risk_id"] for r in recs))]
            row += [fmt(summarize(r["scores"]["risk"].get(s) for r in recs)) for s in shifts]
            lines.append(f"| {method} | " + " | ".join(row) + " |")
        kinds = sorted({k for r in env_recs for k in r["scores"].get("ood_by_kind", {})})
        lines += ["", "OOD score by shift kind:", "", "| method | " + " | ".join(kinds) + " |",
                  "|---|" + "---|" * len(kinds)]
        for (method, _, _), recs in by_method.items():
            row = [fmt(summarize(r["scores"].get("ood_by_kind", {}).get(k) for r in recs)) for k in kinds]
            lines.append(f"| {method} | " + " | ".join(row) + " |")
        lines += ["", "</details>", ""]
    staged = [r for r in records if r["protocol"] == "continual"]
    if staged:
        lines += ["## Continual training, stage by stage", "",
                  "| env | method | stage | domain | n | OOD score | spurious reliance | effect error |",
                  "|---|---|---|---|---|---|---|---|"]
        for (env_id, method, stage), recs in sorted(group(staged, "env_id", "method", "stage").items()):
            lines.append(f"| {env_id} | {method} | {stage + 1} | {recs[0]['stage_domain']} | {len(recs)} | "
                         f"{fmt(metric(recs, 'ood_score'))} | {fmt(metric(recs, 'spurious_reliance'))} | "
                         f"{fmt(metric(recs, 'effect_error'))} |")
        lines.append("")
    if skipped:
        lines += ["## Not applicable", ""]
        lines += [f"- {s['method']} on {s['env_id']}: {s['reason']}" for s in skipped]
        lines.append("")
    return "\n".join(lines)


def compact_table(records: list[dict[str, Any]]) -> str:
    """A terminal table of the headline metrics (final stage, mean ± std over seeds)."""
    final = final_stage(records)
    cols = ("ood_score", "ood_link", "spurious_reliance", "effect_error", "regret")
    head = f"{'env':<22} {'method':<18} {'track':<22} " + " ".join(f"{c:>17}" for c in cols)
    lines = [head, "-" * len(head)]
    for (env_id, method, track), recs in group(final, "env_id", "method", "track").items():
        lines.append(f"{env_id:<22} {method:<18} {track:<22} " + " ".join(f"{fmt(metric(recs, c)):>17}" for c in cols))
    return "\n".join(lines)


def write_report(directory: str | Path) -> list[Path]:
    """Rebuild summary.md and plots/*.png in `directory` from its results.jsonl alone."""
    import json

    directory = Path(directory)
    records = read_records(directory)
    skipped_path = directory / "skipped.json"
    skipped = json.loads(skipped_path.read_text()) if skipped_path.exists() else []
    summary = directory / "summary.md"
    summary.write_text(summary_markdown(records, skipped))
    written = [summary]
    if records:
        written += plot_all(records, directory / "plots")
    return written
