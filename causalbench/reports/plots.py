"""PNG plots for run reports (matplotlib, Agg backend, imported only when plotting).

One panel per env in a grid, methods in the report's fixed order, error bars over seeds,
"n/a" written where a method does not apply or a metric is undefined, legends outside the panels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..env.roles import CAUSAL_ROLES, SPURIOUS_ROLES
from ..scoring.metrics import METRICS
from .records import TRACK_COLORS, final_stage, group, method_order, metric, pyplot

BAR_METRICS = ("ood_link", "ood_worst", "effect_error", "regret")
PNG = {"dpi": 110, "metadata": {"Software": None}}   # no version stamp: identical records, identical bytes


def _grid(n: int, width: float = 5.2, height: float = 3.6) -> tuple[Any, Any, list[Any]]:
    plt = pyplot()
    cols = min(3, max(n, 1))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    return plt, fig, list(axes.flat[:n])


def _legend(plt: Any, fig: Any, labels: dict[str, str]) -> None:
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in labels.values()]
    fig.legend(handles, list(labels), loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)


def _save(plt: Any, fig: Any, path: Path, title: str) -> Path:
    """Constrained layout (one layout pass at draw time; tight_layout draws twice)."""
    fig.suptitle(title, fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, **PNG)
    plt.close(fig)
    return path


def _rows(env_recs: list[dict[str, Any]], skipped: Sequence[dict[str, Any]], env_id: str) -> list[str]:
    return method_order(env_recs) + sorted(s["method"] for s in skipped if s["env_id"] == env_id)


def plot_metric(records: list[dict[str, Any]], name: str, path: Path, skipped: Sequence[dict[str, Any]] = ()) -> Path:
    """Horizontal bars of one metric per env and method (mean, error bar = std over seeds)."""
    by_env = group(final_stage(records), "env_id")
    plt, fig, axes = _grid(len(by_env))
    for ax, ((env_id,), recs) in zip(axes, by_env.items()):
        by = group(recs, "method")
        rows = _rows(recs, skipped, env_id)
        for i, m in enumerate(rows):
            s = metric(by[(m,)], name) if (m,) in by else None
            if s is None or s.n == 0:
                ax.text(0, i, " n/a", va="center", fontsize=7, color="grey")
                continue
            ax.barh(i, s.mean, xerr=s.std if s.n > 1 else 0.0, capsize=2,
                    color=TRACK_COLORS.get(by[(m,)][0]["track"], "grey"))
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.6)
        ax.set_title(env_id, fontsize=10)
        ax.set_xlabel(METRICS[name].unit, fontsize=7)
    _legend(plt, fig, TRACK_COLORS)
    return _save(plt, fig, path, f"{METRICS[name].label} ({'lower' if METRICS[name].lower_is_better else 'higher'}"
                                 " is better)")


def plot_reliance(records: list[dict[str, Any]], path: Path) -> Path:
    """Per env: stacked shares of causal / spurious (proxy + anti-causal) / other reliance per method."""
    by_env = group(final_stage(records), "env_id")
    colors = {"causal + action": "#55a868", "proxy + anti-causal": "#c44e52", "other": "#bbbbbb"}
    plt, fig, axes = _grid(len(by_env))
    for ax, ((env_id,), recs) in zip(axes, by_env.items()):
        by = group(recs, "method")
        rows = method_order(recs)
        for i, m in enumerate(rows):
            shares = np.zeros(3)
            for r in by[(m,)]:
                role = r["scores"]["reliance_by_role"]
                total = sum(role.values())
                if total > 0:
                    parts = [sum(role.get(k, 0.0) for k in CAUSAL_ROLES), sum(role.get(k, 0.0) for k in SPURIOUS_ROLES)]
                    shares += np.array([*parts, total - sum(parts)]) / total / len(by[(m,)])
            if not shares.any():
                ax.text(0, i, " constant (no reliance)", va="center", fontsize=7, color="grey")
            left = 0.0
            for share, color in zip(shares, colors.values()):
                ax.barh(i, share, left=left, color=color)
                left += share
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(env_id, fontsize=10)
    _legend(plt, fig, colors)
    return _save(plt, fig, path, "Share of reliance by role (mean over seeds)")


def plot_continual(records: list[dict[str, Any]], path: Path) -> Path | None:
    """Continual methods, stage by stage: spurious reliance and OOD on link shifts, a panel per env."""
    staged = [r for r in records if r["protocol"] == "continual"]
    if not staged:
        return None
    by_env = group(staged, "env_id")
    plt, fig, axes = _grid(len(by_env), 4.6, 3.2)
    styles = {"spurious_reliance": "-", "ood_link": "--"}
    for ax, ((env_id,), recs) in zip(axes, by_env.items()):
        for (method,), mrecs in group(recs, "method").items():
            stages = sorted({r["stage"] for r in mrecs})
            for name, ls in styles.items():
                s = [metric([r for r in mrecs if r["stage"] == k], name) for k in stages]
                ax.errorbar([k + 1 for k in stages], [x.mean for x in s], yerr=[x.std if x.n > 1 else 0 for x in s],
                            ls=ls, marker="o", capsize=2, label=f"{method}: {METRICS[name].label}")
            ax.set_xticks([k + 1 for k in stages])
        ax.set_xlabel("stage (training domain)", fontsize=8)
        ax.set_title(env_id, fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=7, frameon=False)
    fig.suptitle("Continual training: after each stage", fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, **PNG)
    plt.close(fig)
    return path


def plot_all(records: Sequence[dict[str, Any]], directory: Path, skipped: Sequence[dict[str, Any]] = (),
             jobs: int = 2) -> list[Path]:
    """Every run plot, rendered in `jobs` worker processes (each figure is independent; Agg is CPU-bound)."""
    records = list(records)
    tasks: list[tuple[Any, tuple[Any, ...]]] = [(plot_metric, (records, m, directory / f"{m}.png", skipped))
                                                for m in BAR_METRICS]
    tasks += [(plot_reliance, (records, directory / "reliance.png")),
              (plot_continual, (records, directory / "continual.png"))]
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            out = list(pool.map(_call, tasks))
    else:
        out = [_call(t) for t in tasks]
    return [p for p in out if p is not None]


def _call(task: tuple[Any, tuple[Any, ...]]) -> Path | None:
    fn, args = task
    return fn(*args)
