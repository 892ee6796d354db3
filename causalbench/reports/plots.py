"""PNG plots for run reports (matplotlib, Agg backend, imported only when plotting)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .records import TRACK_COLORS, final_stage, group, method_order, metric, pyplot


def _env_panels(records: list[dict[str, Any]]) -> tuple[Any, Any, list[tuple[Any, str, list[str], dict]]]:
    """A figure with one panel per env (final stages) and, per panel: (axis, env id, methods, records by method).
    Unused panels are switched off."""
    plt = pyplot()
    by_env = group(final_stage(records), "env_id")
    cols = min(3, len(by_env))
    rows = math.ceil(len(by_env) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    panels = [(ax, env_id, method_order(recs), group(recs, "method"))
              for ax, ((env_id,), recs) in zip(axes.flat, by_env.items())]
    for ax in axes.flat[len(by_env):]:
        ax.axis("off")
    return fig, axes, panels


def _bars(records: list[dict[str, Any]], name: str, title: str, path: Path, reference: float | None = None) -> Path:
    plt = pyplot()
    fig, axes, panels = _env_panels(records)
    for ax, env_id, methods, by in panels:
        stats = [metric(by[(m,)], name) for m in methods]
        colors = [TRACK_COLORS.get(by[(m,)][0]["track"], "grey") for m in methods]
        means = [s.mean if s.n else np.nan for s in stats]
        errs = [s.std if s.n > 1 else 0.0 for s in stats]
        ax.barh(range(len(methods)), means, xerr=errs, color=colors, capsize=2)
        ax.set_yticks(range(len(methods)), methods, fontsize=8)
        ax.invert_yaxis()
        if reference is not None:
            ax.axvline(reference, color="black", lw=0.8, ls="--")
        ax.axvline(0, color="black", lw=0.6)
        ax.set_title(env_id, fontsize=10)
        finite = [abs(m) + e for m, e in zip(means, errs) if np.isfinite(m)]
        if finite and max(finite) > 10:
            ax.set_xscale("symlog", linthresh=1.0)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in TRACK_COLORS.values()]
    fig.legend(handles, list(TRACK_COLORS), loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_reliance(records: list[dict[str, Any]], path: Path) -> Path:
    """Per env: stacked shares of spurious / causal / other reliance per method (mean over seeds)."""
    plt = pyplot()
    fig, axes, panels = _env_panels(records)
    for ax, env_id, methods, by in panels:
        spur = np.array([metric(by[(m,)], "spurious_reliance").mean for m in methods])
        caus = np.array([metric(by[(m,)], "causal_reliance").mean for m in methods])
        other = np.clip(1 - spur - caus, 0, 1)
        y = np.arange(len(methods))
        ax.barh(y, spur, color="#c44e52", label="spurious")
        ax.barh(y, caus, left=spur, color="#55a868", label="causal")
        ax.barh(y, other, left=spur + caus, color="#bbbbbb", label="other")
        ax.set_yticks(y, methods, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(env_id, fontsize=10)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Share of the model's reliance on spurious vs causal features (0 for a constant predictor)",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_continual(records: list[dict[str, Any]], path: Path) -> Path | None:
    """Spurious reliance and OOD score after each continual stage (mean +/- std over seeds)."""
    staged = [r for r in records if r["protocol"] == "continual"]
    if not staged:
        return None
    plt = pyplot()
    envs = list(group(staged, "env_id"))
    fig, axes = plt.subplots(2, len(envs), figsize=(3.4 * len(envs), 5.6), squeeze=False)
    for j, (env_id,) in enumerate(envs):
        env_recs = group(staged, "env_id")[(env_id,)]
        for (method,), recs in group(env_recs, "method").items():
            stages = sorted({r["stage"] for r in recs})
            by_stage = group(recs, "stage")
            for i, name in enumerate(("spurious_reliance", "ood_score")):
                stats = [metric(by_stage[(s,)], name) for s in stages]
                axes[i, j].errorbar([s + 1 for s in stages], [s.mean for s in stats],
                                    yerr=[s.std if s.n > 1 else 0 for s in stats], marker="o", capsize=2,
                                    label=method)
        axes[0, j].set_title(env_id, fontsize=9)
        axes[1, j].set_xlabel("stage (training domain)")
    axes[0, 0].set_ylabel("spurious reliance")
    axes[1, 0].set_ylabel("OOD score")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("Continual fine-tuning: metrics after each stage", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_all(records: Sequence[dict[str, Any]], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    recs = list(records)
    out = [
        _bars(recs, "ood_score", "OOD score by method (0 = causal oracle, 1 = constant predictor; mean ± std over seeds)",
              directory / "ood_score.png", reference=1.0),
        _bars(recs, "ood_link", "OOD score on the shifts that break or reverse the spurious link (0 = oracle, 1 = constant)",
              directory / "ood_link.png", reference=1.0),
        plot_reliance(recs, directory / "reliance.png"),
        _bars(recs, "effect_error", "Effect error: implied E[Y | do(X = a)] vs truth, in sd(Y)",
              directory / "effect_error.png"),
    ]
    continual = plot_continual(recs, directory / "continual.png")
    if continual is not None:
        out.append(continual)
    return out
