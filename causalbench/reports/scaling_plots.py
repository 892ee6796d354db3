"""Scaling-study plots (one set per env): scale (vs N and vs training compute), mixture, fine-tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .records import pyplot
from .scaling_data import METRICS, Curve, metric_label, references, value

MODEL_COLORS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#041838"]
RHO_COLORS = {0.0: "#252525", 1e-3: "#fdae6b", 1e-2: "#e6550d", 1e-1: "#7f2704"}
REGIME_STYLES = {"unobserved": "-", "observed": "--", "observed@0": ":"}
REF_STYLES = {"bayes-train": ("#7f7f7f", "-."), "causal-reference": ("#2ca02c", "-.")}


def _band(ax: Any, x: np.ndarray, curve: Curve, metric: str, **style: Any) -> None:
    stats = curve.summaries(metric)
    mean = np.array([s.mean if s.n else np.nan for s in stats])
    lo = np.array([s.ci_low if s.n > 1 else s.mean for s in stats])
    hi = np.array([s.ci_high if s.n > 1 else s.mean for s in stats])
    order = np.argsort(x)
    ax.plot(x[order], mean[order], marker="o", ms=3, lw=1.4, **style)
    ax.fill_between(x[order], lo[order], hi[order], color=style.get("color"), alpha=0.15, lw=0)


def _references(ax: Any, refs: dict, metric: str, log: bool = False) -> None:
    """Reference levels as horizontal lines (on a log axis, only those above 1e-9: the Bayes ID risk is 0)."""
    for name, (color, ls) in REF_STYLES.items():
        s = refs.get(name, {}).get(metric)
        if s is not None and s.n and (not log or s.mean > 1e-9):
            ax.axhline(s.mean, color=color, ls=ls, lw=0.9, label=name)


def _legend(fig: Any, axes: Any, height: float) -> None:
    handles: dict[str, Any] = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    ncol = min(len(handles), 5) or 1
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    rows = -(-len(handles) // ncol)
    fig.tight_layout(rect=(0, (0.15 + 0.22 * rows) / height, 1, 1 - 0.45 / height))


def _mean_x(curve: Curve, quantity: str) -> np.ndarray:
    vals = curve.values(quantity)
    return np.array([np.nanmean(col) if np.isfinite(col).any() else np.nan for col in vals.T])


def plot_scale(curves: Sequence[Curve], records: Sequence[dict[str, Any]], env_id: str, path: Path) -> Path:
    """rho = 0: each metric against N (left) and against training FLOPs (right), one line per model size."""
    plt = pyplot()
    members = [c for c in curves if c.env_id == env_id and c.rho == 0.0 and c.regime == "unobserved"]
    refs = references(records, env_id)
    fig, axes = plt.subplots(len(METRICS), 2, figsize=(9, 2.5 * len(METRICS) + 1.2), squeeze=False)
    for i, (m, _) in enumerate(METRICS):
        for k, c in enumerate(members):
            style = {"color": MODEL_COLORS[min(k, len(MODEL_COLORS) - 1)],
                     "label": f"{c.model} ({c.params:.2g} params)" if c.params else c.model}
            _band(axes[i, 0], np.array(c.sizes, float), c, m, **style)
            _band(axes[i, 1], _mean_x(c, "train_flops"), c, m, **style)
        for j in range(2):
            _references(axes[i, j], refs, m, log=m == "excess_risk_id")
            axes[i, j].set_xscale("log")
            axes[i, j].grid(True, alpha=0.3)
            if m == "excess_risk_id":
                axes[i, j].set_yscale("log")
        axes[i, 0].set_ylabel(metric_label(m), fontsize=9)
    axes[-1, 0].set_xlabel("training rows N")
    axes[-1, 1].set_xlabel("training compute (FLOPs = 6 x params x samples seen)")
    fig.suptitle(f"{env_id}: static observational data (rho = 0), mean and 95% interval over seeds", fontsize=10)
    _legend(fig, axes, fig.get_size_inches()[1])
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_mixture(curves: Sequence[Curve], records: Sequence[dict[str, Any]], env_id: str, model: str,
                 path: Path) -> Path:
    """Each metric against N for every rho (colour) and regime (line style), the mixture model."""
    plt = pyplot()
    members = [c for c in curves if c.env_id == env_id and c.model == model]
    refs = references(records, env_id)
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.6 * len(METRICS), 3.6), squeeze=False)
    for j, (m, _) in enumerate(METRICS):
        ax = axes[0, j]
        for c in members:
            _band(ax, np.array(c.sizes, float), c, m, color=RHO_COLORS.get(c.rho, "#9467bd"),
                  ls=REGIME_STYLES.get(c.regime, "-"), label=f"rho={c.rho:g} {c.regime}")
        _references(ax, refs, m)
        ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_title(metric_label(m), fontsize=9)
        ax.set_xlabel("training rows N")
    fig.suptitle(f"{env_id}: a share rho of natural-experiment units, regime unobserved (solid) or observed "
                 f"(dashed: queried in the randomised regime); model {model}", fontsize=10)
    _legend(fig, axes, fig.get_size_inches()[1])
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_finetune(table: dict[str, Any], path: Path) -> Path:
    """Each metric against the interventional budget B: pretrained then fine-tuned vs trained from scratch."""
    plt = pyplot()
    budgets = table["budgets"]
    x = np.array(budgets[1:], float)
    fig, axes = plt.subplots(1, len(METRICS), figsize=(3.6 * len(METRICS), 3.5), squeeze=False)
    for j, (m, _) in enumerate(METRICS):
        ax = axes[0, j]
        rows = table["rows"]
        for key, color, label in (("pretrained", "#08519c", f"pretrained on {table['pretrain_rows']} static rows, "
                                   "then fine-tuned"), ("scratch", "#d62728", "from scratch on the budget")):
            stats = [r[m][key] for r in rows[1:]]
            mean = np.array([s["mean"] if s and s["n"] else np.nan for s in stats], float)
            lo = np.array([s["ci_low"] if s and s["n"] > 1 else np.nan for s in stats], float)
            hi = np.array([s["ci_high"] if s and s["n"] > 1 else np.nan for s in stats], float)
            ax.plot(x, mean, marker="o", ms=3, color=color, label=label)
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
        start = rows[0][m]["pretrained"]
        if start["n"]:
            ax.axhline(start["mean"], color="#08519c", ls=":", lw=1, label="pretrained, before fine-tuning")
        causal = table["causal_reference"].get(m)
        if causal and causal["n"]:
            ax.axhline(causal["mean"], color=REF_STYLES["causal-reference"][0], ls="-.", lw=0.9, label="causal-reference")
        ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_title(metric_label(m), fontsize=9)
        ax.set_xlabel("interventional budget B (rows)")
    fig.suptitle(f"{table['env_id']}: fine-tuning on interventional rows, model {table['model']} "
                 f"(seeds {', '.join(map(str, table['seeds']))}, common test suite)", fontsize=10)
    _legend(fig, axes, fig.get_size_inches()[1])
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["plot_scale", "plot_mixture", "plot_finetune", "value"]
